"""The pipeline's overhead around an LLM call: total ask time against the model's time, from the trace.

The real llama.cpp server with Gemma 3 270M (the test extra; started as the tests start it) answers
20 VAC questions (the project's own Dutch paraphrases) over the 175 BZK pages. For each answered
question the compose stage's trace gives the LLM call's duration; the rest of the ask is loket's own
work: the input checks, language detection, routing, search, the output checks and storing the turn.

Run: `.venv/bin/python benchmarks/llm.py [--postgresql]` (a few minutes: embedding the pages is slow).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, SHARED_DATA, database_url
from loket.config import Settings
from loket.services import Services

sys.path.insert(0, str(ROOT))
from tests.llm import MODEL_ALIAS, running_server

QUESTIONS = 20
MAX_TOKENS = 80


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[max(int(len(ordered) * 0.95) - 1, 0)]
    return f"p50 {statistics.median(ordered):7.1f} ms, p95 {p95:7.1f} ms"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url(__doc__, tmp)
        (Path(tmp) / "llm").mkdir()
        with running_server(Path(tmp) / "llm") as llm:
            settings = Settings(
                database_url=url,
                data_dir=Path(tmp),
                llm_base_url=llm.base_url,
                llm_model=MODEL_ALIAS,
                llm_max_tokens=MAX_TOKENS,
                llm_timeout=600,
                _env_file=None,
            )
            services = Services.build(settings)
            services.db.upgrade()
            services.catalog.ingest_location(
                str(SHARED_DATA / "rijksoverheid_vac_govbench" / "rijksoverheid_vacs_bzk.csv")
            )
            services.search.sync()
            questions = [
                json.loads(line)["question"]
                for line in (ROOT / "eval" / "vac_paraphrases_nl.jsonl").read_text().splitlines()
                if line.strip()
            ][:QUESTIONS]
            # Warm-up: the search index, and the client learns that this server counts tokens only
            # in whole (not streamed) answers, which costs its first question a second request.
            services.assistant.ask("Hoe vraag ik een paspoort aan?")

            totals, llm, overhead, tokens = [], [], [], []
            statuses: dict[str, int] = {}
            for question in questions:
                started = time.perf_counter()
                answer = services.assistant.ask(question)
                total = (time.perf_counter() - started) * 1000
                statuses[str(answer.status)] = statuses.get(str(answer.status), 0) + 1
                message = services.assistant.conversation(answer.conversation_id).messages[-1]
                compose = next((s for s in message.trace if s["stage"] == "compose"), None)
                if compose is None or "llm_ms" not in compose["details"]:
                    continue  # stopped before the model was asked
                details = compose["details"]
                totals.append(total)
                llm.append(details["llm_ms"])
                overhead.append(total - details["llm_ms"])
                tokens.append((details["prompt_tokens"], details["completion_tokens"]))
            services.db.dispose()

    print(f"database: {url.split(':', 1)[0]}; model: {MODEL_ALIAS} on llama.cpp, max {MAX_TOKENS} tokens")
    print(f"questions: {len(questions)}; statuses: {statuses}; with an LLM call: {len(llm)}")
    if not llm:
        return
    print(f"ask, total:          {percentiles(totals)}")
    print(f"LLM call (trace):    {percentiles(llm)}")
    print(f"pipeline overhead:   {percentiles(overhead)}")
    share = sum(overhead) / sum(totals) * 100
    print(f"overhead share of the total: {share:.1f}%")
    prompt_tokens = statistics.mean(p for p, _ in tokens)
    completion_tokens = statistics.mean(c for _, c in tokens)
    print(f"tokens per call: {prompt_tokens:.0f} prompt, {completion_tokens:.0f} completion (mean)")


if __name__ == "__main__":
    main()

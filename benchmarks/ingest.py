"""Ingest throughput on the real shared corpora: first load, and re-ingest of unchanged items.

Run: `make bench` (SQLite) or `.venv/bin/python benchmarks/ingest.py --postgresql`.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from common import SHARED_DATA, database_url
from loket.catalog.service import CatalogService
from loket.db import Database

CORPORA = {
    "VAC CSV": SHARED_DATA / "rijksoverheid_vac_govbench" / "rijksoverheid_vacs_bzk.csv",
    "VAC API JSON": SHARED_DATA / "rijksoverheid_vac_govbench" / "cache_vacs_bzk",
    "GOV.UK JSONL": SHARED_DATA / "govuk_pages_157" / "govuk_pages_clean.jsonl",
}


def measure(catalog: CatalogService, location: Path) -> tuple[int, float]:
    started = time.perf_counter()
    report = catalog.ingest_location(str(location))
    assert report.ok, report.problems
    return report.seen, time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url(__doc__, tmp)
        print(f"database: {url.split(':', 1)[0]}")
        print(f"{'corpus':<14} {'items':>6} {'first items/s':>14} {'re-ingest items/s':>18}")
        for name, location in CORPORA.items():
            db = Database(url)
            db.upgrade()
            catalog = CatalogService(db)
            items, first = measure(catalog, location)
            _, again = measure(catalog, location)
            print(f"{name:<14} {items:>6} {items / first:>14.0f} {items / again:>18.0f}")
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DELETE FROM catalog_item_versions")
                connection.exec_driver_sql("DELETE FROM catalog_items")
            db.dispose()


if __name__ == "__main__":
    main()

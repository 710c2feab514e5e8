"""What every benchmark needs: the shared data folder and a database to measure on."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from loket.logging import configure as configure_logging

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def percentile(values: list[float], share: float) -> float:
    """The value `share` of the way up the sorted values (nearest rank); NaN for none."""
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)] if ordered else float("nan")


def database_url(description: str, workdir: str) -> str:
    """SQLite in `workdir`, or with --postgresql a real PostgreSQL started by pgserver. Quiet logs."""
    configure_logging("WARNING")
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--postgresql", action="store_true", help="use a real PostgreSQL started by pgserver")
    if not parser.parse_args().postgresql:
        return f"sqlite:///{workdir}/bench.db"
    import pgserver

    server = pgserver.get_server(Path(workdir) / "pg", cleanup_mode="stop")
    return server.get_uri().replace("postgresql://", "postgresql+psycopg://")


def print_figures(url: str, seconds: float, data: str, figures: dict[str, str]) -> None:
    """The run's setting (database, machine, data), then one figure a line."""
    print(
        f"database: {url.split(':', 1)[0].split('+')[0]}, measured in {seconds:.0f} s\n"
        f"machine: {os.cpu_count()} cores, shared with other work: figures vary between runs\n"
        f"data: {data}\n"
    )
    width = max(len(label) for label in figures)
    for label, value in figures.items():
        print(f"{label:{width}}  {value}")

"""Reports: intake of a report with a 3 MB photo, and the nearby-duplicate lookup among 100,000 reports.

Intake: `RUNS` reports, each `POST /api/v1/reports` in process (FastAPI's test client, multipart) with
one noisy 3 MB JPEG of 12 megapixels, as a phone sends it: checked, re-encoded without metadata at
most 2560 px, written to disk, stored; anonymous, so no case. Printed: median and 95th percentile.

Nearby: 100,000 open reports written straight into `reports_reports` (seeding only), spread evenly
over the default area (Flanders) and the shipped categories, over the last 30 days, plus a tenth of
them in a city centre (2 km around Ghent's Korenmarkt) where the bounding box holds more. Then
`ReportService.nearby` at `RUNS` random places in the area and `RUNS` in that centre.

Queue: among the same reports (each with its category's authority), `ReportService.queue` of each
authority, `RUNS` times in all: its 200 oldest open reports, as an agency's API or the console lists them.

Run: `.venv/bin/python benchmarks/reports.py [--postgresql]` (PostgreSQL is the figure the issue asks
for).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from io import BytesIO
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import insert

from common import database_url, percentile, print_figures
from loket import clock
from loket.config import Settings
from loket.reports.models import ReportRow
from loket.reports.schemas import Area
from loket.services import Services
from loket.web.app import create_app

STORED = 100_000
BATCH = 10_000
RUNS = 50
INTAKE_RUNS = 30
PHOTO_BYTES = 3 * 2**20
GHENT = (51.0543, 3.7174)
CENTRE_DEGREES = 0.018  # about 2 km


def noisy_jpeg(target: int) -> bytes:
    """A 4000 x 3000 JPEG of noise, at the quality that makes it `target` bytes or just over."""
    rng = random.Random(3)
    image = Image.frombytes("L", (1000, 750), rng.randbytes(750_000)).convert("RGB").resize((4000, 3000))
    for quality in range(40, 100, 5):
        out = BytesIO()
        image.save(out, "JPEG", quality=quality)
        if out.tell() >= target:
            return out.getvalue()
    raise AssertionError("no quality makes the photo large enough")


def measure_intake(settings: Settings, figures: dict[str, str]) -> None:
    photo = noisy_jpeg(PHOTO_BYTES)
    app = create_app(settings)
    seconds = []
    with TestClient(app) as client:
        for run in range(INTAKE_RUNS):
            form = {"category": "street-light", "description": "De lamp brandt niet."}
            form |= {"latitude": str(51 + run / 1000), "longitude": "3.7"}
            started = time.perf_counter()
            response = client.post(
                "/api/v1/reports", data=form, files=[("photo", ("p.jpg", photo, "image/jpeg"))]
            )
            seconds.append(time.perf_counter() - started)
            assert response.status_code == 201, response.text
    app.state.services.db.dispose()
    figures[f"intake, one {len(photo) / 2**20:.1f} MB photo ({INTAKE_RUNS} runs)"] = _spread(seconds)


def fill(services: Services, categories: dict[str, str], area: Area) -> None:
    """`categories`: each category's authority."""
    rng = random.Random(24)
    now = clock.now()
    for start in range(0, STORED, BATCH):
        rows = []
        for index in range(start, start + BATCH):
            if index % 10 == 0:
                latitude = GHENT[0] + rng.uniform(-CENTRE_DEGREES, CENTRE_DEGREES)
                longitude = GHENT[1] + rng.uniform(-CENTRE_DEGREES, CENTRE_DEGREES)
            else:
                latitude, longitude = rng.uniform(area.south, area.north), rng.uniform(area.west, area.east)
            category = rng.choice(list(categories))
            rows.append(
                {
                    "id": uuid.uuid4().hex,
                    "category": category,
                    "authority": categories[category],
                    "description": "Benchmark",
                    "latitude": latitude,
                    "longitude": longitude,
                    "created_at": now - timedelta(seconds=rng.uniform(0, 30 * 86400)),
                }
            )
        with services.db.session() as session:
            session.execute(insert(ReportRow), rows)
    with services.db.engine.begin() as connection:
        if services.db.engine.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE reports_reports")


def measure_nearby(services: Services, figures: dict[str, str]) -> None:
    reports = services.reports
    categories = list(reports.categories)
    area = reports.area
    fill(services, {c.id: c.authority for c in reports.categories.values()}, area)
    rng = random.Random(7)
    places = {
        "anywhere in Flanders": lambda: (
            rng.uniform(area.south, area.north),
            rng.uniform(area.west, area.east),
        ),
        "in the city centre": lambda: (
            GHENT[0] + rng.uniform(-CENTRE_DEGREES, CENTRE_DEGREES),
            GHENT[1] + rng.uniform(-CENTRE_DEGREES, CENTRE_DEGREES),
        ),
    }
    for where, place in places.items():
        seconds, found = [], 0
        for _ in range(RUNS):
            category, point = rng.choice(categories), place()
            started = time.perf_counter()
            found += len(reports.nearby(category, *point))
            seconds.append(time.perf_counter() - started)
        figures[f"nearby lookup, {where} ({RUNS} runs, {found / RUNS:.1f} found)"] = _spread(seconds)


def measure_queue(services: Services, figures: dict[str, str]) -> None:
    reports = services.reports
    authorities = sorted({category.authority for category in reports.categories.values()})
    seconds, listed = [], 0
    for run in range(RUNS):
        started = time.perf_counter()
        listed += len(reports.queue(authorities[run % len(authorities)]))
        seconds.append(time.perf_counter() - started)
    figures[f"an authority's queue ({RUNS} runs, {listed / RUNS:.0f} listed)"] = _spread(seconds)


def _spread(seconds: list[float]) -> str:
    return f"p50 {statistics.median(seconds) * 1000:,.1f} ms, p95 {percentile(seconds, 0.95) * 1000:,.1f} ms"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = database_url(__doc__, folder)
        started = time.perf_counter()
        settings = Settings(
            database_url=url, data_dir=Path(folder), rate_limit_reports="1000/minute", _env_file=None
        )
        services = Services.build(settings)
        services.db.upgrade()
        figures: dict[str, str] = {}
        measure_intake(settings, figures)
        measure_nearby(services, figures)
        measure_queue(services, figures)
        services.db.dispose()
        seconds = time.perf_counter() - started
    print_figures(
        url,
        seconds,
        f"{INTAKE_RUNS} reports with a noisy 12 MP JPEG; {STORED:,} stored reports, a tenth in a city centre",
        figures,
    )


if __name__ == "__main__":
    main()

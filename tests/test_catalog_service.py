"""The catalogue service on SQLite and on a real PostgreSQL: idempotence, versions, withdrawal, safety.

Every test takes `services`, so it runs once on each database.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from itertools import chain, islice
from pathlib import Path

import pytest

from loket.catalog.importers import read
from loket.catalog.importers.text import html_to_text
from loket.catalog.schemas import ItemDraft, ItemStatus, Problem
from loket.catalog.service import BATCH_SIZE
from tests.conftest import GOVUK, IPDC_SAMPLES, VAC

VAC_CSV = VAC / "rijksoverheid_vacs_bzk.csv"
VAC_FOLDER = VAC / "cache_vacs_bzk"


def vac_files() -> list[Path]:
    files = sorted(VAC_FOLDER.glob("*.json"))
    assert len(files) == 175
    return files


def vac_drafts() -> list[ItemDraft]:
    drafts = [r for r in read(str(VAC_CSV)) if isinstance(r, ItemDraft)]
    assert len(drafts) == 175
    return drafts


def rijksoverheid_active(services) -> list:
    return [item for item in services.catalog.active_items() if item.source == "rijksoverheid"]


def test_ingest_is_idempotent_across_csv_and_json(services):
    catalog = services.catalog
    first = catalog.ingest_location(str(VAC_CSV))
    assert first.problems == []
    assert (first.created, first.updated, first.unchanged, first.withdrawn) == (175, 0, 0, 0)

    again = catalog.ingest_location(str(VAC_CSV))
    assert again.problems == []
    assert (again.created, again.updated, again.unchanged) == (0, 0, 175)
    items = catalog.active_items()
    assert len(items) == 175
    assert {item.version for item in items} == {1}
    assert {item.source for item in items} == {"rijksoverheid"}

    from_json = catalog.ingest_location(str(VAC_FOLDER))
    assert from_json.problems == []
    assert (from_json.created, from_json.updated, from_json.unchanged) == (0, 0, 175)
    assert catalog.revision()[0] == 175
    assert catalog.counts() == {("rijksoverheid", "active"): 175}


def test_a_changed_record_makes_a_new_version(services, tmp_path):
    catalog = services.catalog
    source = vac_files()[0]
    record = json.loads(source.read_text(encoding="utf-8"))
    assert record["content"]
    file = tmp_path / source.name
    file.write_text(json.dumps(record), encoding="utf-8")
    assert catalog.ingest_location(str(file)).created == 1

    (draft,) = [r for r in read(str(file)) if isinstance(r, ItemDraft)]
    old_title = record["question"]
    old_paragraph = record["content"][0]["paragraph"]
    record["question"] = old_title.rstrip("?") + " in 2026?"
    record["content"][0]["paragraph"] = "<p>Deze tekst is in 2026 volledig herschreven.</p>"
    file.write_text(json.dumps(record), encoding="utf-8")

    report = catalog.ingest_location(str(file))
    assert report.problems == []
    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)

    item = catalog.get(draft.item_id)
    assert item.version == 2
    assert item.title == record["question"]
    assert "Deze tekst is in 2026 volledig herschreven." in [s.text for s in item.sections]

    versions = catalog.versions(draft.item_id)
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[0]["content_hash"] == draft.content_hash
    assert versions[0]["content_hash"] != versions[1]["content_hash"] == item.content_hash
    assert versions[0]["content"]["title"] == old_title.strip()
    old_texts = " ".join(section["text"] for section in versions[0]["content"]["sections"])
    old_words = " ".join(html_to_text(old_paragraph).split()[:6])
    assert old_words in " ".join(old_texts.split())
    assert old_words not in " ".join(" ".join(s.text for s in item.sections).split())
    assert "herschreven" not in old_texts
    assert versions[1]["content"]["title"] == record["question"]

    # the same content once more changes nothing
    assert catalog.ingest_location(str(file)).unchanged == 1
    assert len(catalog.versions(draft.item_id)) == 2


def test_full_sync_withdraws_what_the_source_dropped(services, tmp_path):
    catalog = services.catalog
    assert catalog.ingest_location(str(VAC_CSV)).created == 175
    services.search.sync()  # what the job a catalogue change queues does (as below)
    kept_files = vac_files()[:3]
    folder = tmp_path / "vacs"
    folder.mkdir()
    for file in kept_files:
        shutil.copy(file, folder / file.name)

    gone = next(d for d in vac_drafts() if d.source_id not in {f.stem for f in kept_files})
    query = gone.title
    assert gone.item_id in [hit.item.id for hit in services.search.search(query, limit=5)]

    report = catalog.ingest_location(str(folder), full_sync=True)
    assert report.problems == []
    assert (report.unchanged, report.withdrawn) == (3, 172)
    services.search.sync()
    active = rijksoverheid_active(services)
    assert sorted(item.source_id for item in active) == sorted(f.stem for f in kept_files)
    withdrawn = catalog.get(gone.item_id)
    assert withdrawn.status == ItemStatus.WITHDRAWN
    assert gone.item_id not in [hit.item.id for hit in services.search.search(query, limit=50)]
    assert catalog.counts() == {("rijksoverheid", "active"): 3, ("rijksoverheid", "withdrawn"): 172}

    back = catalog.ingest_location(str(VAC_CSV))
    assert back.problems == []
    assert (back.created, back.updated, back.unchanged) == (0, 172, 3)
    revived = catalog.get(gone.item_id)
    assert (revived.status, revived.version) == (ItemStatus.ACTIVE, 2)
    assert len(rijksoverheid_active(services)) == 175
    services.search.sync()
    assert gone.item_id in [hit.item.id for hit in services.search.search(query, limit=5)]


def test_full_sync_with_a_problem_withdraws_nothing(services, tmp_path):
    catalog = services.catalog
    assert catalog.ingest_location(str(VAC_CSV)).created == 175
    for file in vac_files()[:2]:
        shutil.copy(file, tmp_path / file.name)
    data = vac_files()[2].read_bytes()
    corrupt = tmp_path / vac_files()[2].name
    corrupt.write_bytes(data[: len(data) // 2])

    report = catalog.ingest_location(str(tmp_path), full_sync=True)
    assert report.withdrawn == 0
    assert report.unchanged == 2
    assert len(report.problems) == 2
    file_problem, sync_problem = report.problems
    assert file_problem.where == str(corrupt)
    assert sync_problem.where == "rijksoverheid"
    assert "nothing withdrawn" in sync_problem.message
    assert len(rijksoverheid_active(services)) == 175
    assert catalog.counts() == {("rijksoverheid", "active"): 175}


def test_items_past_their_end_date_are_kept_but_not_shown(services, tmp_path):
    catalog = services.catalog
    (tmp_path / "oude-premie.md").write_text(
        "---\nid: oude-renovatiepremie\nlanguage: nl\nvalid_until: 2020-01-01\n---\n"
        "# Renovatiepremie dakisolatie 2019\n\nDe zolderisolatiepremie werd tot eind 2019 uitbetaald.\n",
        encoding="utf-8",
    )
    (tmp_path / "nieuwe-premie.md").write_text(
        "---\nid: mijn-verbouwpremie\nlanguage: nl\nvalid_until: 2099-12-31\n---\n"
        "# Mijn VerbouwPremie\n\nVoor zolderisolatie krijgt u vandaag Mijn VerbouwPremie.\n",
        encoding="utf-8",
    )
    report = catalog.ingest_location(str(tmp_path))
    assert report.problems == []
    assert report.created == 2
    services.search.sync()

    drafts = {d.source_id: d for d in read(str(tmp_path)) if isinstance(d, ItemDraft)}
    expired = catalog.get(drafts["oude-renovatiepremie"].item_id)
    assert expired.status == ItemStatus.ACTIVE
    assert expired.valid_until is not None and expired.valid_until.year == 2020
    active_ids = [item.id for item in catalog.active_items()]
    assert active_ids == [drafts["mijn-verbouwpremie"].item_id]

    hits = services.search.search("zolderisolatiepremie zolderisolatie", limit=10)
    assert [hit.item.id for hit in hits] == [drafts["mijn-verbouwpremie"].item_id]


def test_moments_keep_their_offset_on_every_database(services):
    page = next(
        d for d in read(str(GOVUK)) if isinstance(d, ItemDraft) and d.created and d.created.utcoffset()
    )
    services.catalog.ingest([page])
    item = services.catalog.get(page.item_id)
    assert item.created == page.created  # the same instant, not the same wall-clock time read as UTC
    assert item.created.utcoffset() == timedelta(0)
    assert item.updated_at.tzinfo is not None


def test_end_dates_written_with_an_offset_are_compared_as_instants(services):
    base = vac_drafts()[0]
    now = datetime.now(UTC)
    # wall-clock times that lie on the other side of "now" if their offset were dropped
    still_valid = replace(
        base,
        source_id="nog-geldig",
        valid_until=(now + timedelta(minutes=30)).astimezone(timezone(timedelta(hours=-5))),
    )
    expired = replace(
        base,
        source_id="verlopen",
        valid_until=(now - timedelta(minutes=30)).astimezone(timezone(timedelta(hours=5))),
    )
    assert services.catalog.ingest([still_valid, expired]).created == 2
    assert [item.id for item in services.catalog.active_items()] == [still_valid.item_id]


def test_a_value_too_long_for_its_column_is_a_problem_not_a_crash(services, tmp_path):
    (tmp_path / "lange-licentie.md").write_text(
        "---\nlicence: "
        + "Dit werk valt onder de Modellicentie Gratis Hergebruik van de Vlaamse overheid. " * 4
        + "\n---\n# Kaart voor gehandicaptenparkeren\n\n"
        + "U vraagt de parkeerkaart aan bij de FOD Sociale Zekerheid.\n",
        encoding="utf-8",
    )
    (tmp_path / "bewonerskaart.md").write_text(
        "# Bewonerskaart\n\nMet een bewonerskaart parkeert u in uw eigen zone.\n", encoding="utf-8"
    )
    report = services.catalog.ingest_location(str(tmp_path))
    assert report.created == 1
    (problem,) = report.problems
    assert problem.where == "local/lange-licentie (und)"
    assert "licence is longer than 200 characters" in problem.message
    assert [item.source_id for item in services.catalog.active_items()] == ["bewonerskaart"]


def _crashing(records: list[ItemDraft], after: int) -> Iterator[ItemDraft]:
    yield from islice(records, after)
    raise RuntimeError("the source connection dropped")


def test_a_crash_in_the_first_batch_leaves_nothing(services):
    drafts = vac_drafts()
    with pytest.raises(RuntimeError, match="connection dropped"):
        services.catalog.ingest(_crashing(drafts, 20))
    assert services.catalog.revision()[0] == 0
    assert services.catalog.active_items() == []


def test_a_crash_loses_only_the_batch_in_flight(services):
    drafts = list(chain(vac_drafts(), (d for d in read(str(GOVUK)) if isinstance(d, ItemDraft))))
    assert len(drafts) > BATCH_SIZE + 10
    with pytest.raises(RuntimeError):
        services.catalog.ingest(_crashing(drafts, BATCH_SIZE + 10))
    stored = {item.id for item in services.catalog.active_items()}
    assert stored == {d.item_id for d in drafts[:BATCH_SIZE]}
    assert services.catalog.revision()[0] == BATCH_SIZE


def test_a_duplicate_with_other_content_is_a_problem_and_the_first_is_kept(services):
    first, other = vac_drafts()[:2]
    changed = replace(first, title=first.title + " (gewijzigd)")
    report = services.catalog.ingest([first, other, changed, first])
    assert report.created == 2
    (problem,) = report.problems
    assert problem.where == f"rijksoverheid/{first.source_id} (nl)"
    assert "twice" in problem.message
    assert services.catalog.get(first.item_id).title == first.title
    assert services.catalog.get(first.item_id).content_hash == first.content_hash


def test_item_ids_are_stable_and_derived_from_the_record(services):
    file = vac_files()[0]
    record = json.loads(file.read_text(encoding="utf-8"))
    assert services.catalog.ingest_location(str(file)).created == 1
    (item,) = services.catalog.active_items()
    (draft,) = list(read(str(file)))
    # the same id on every database and every run: a UUIDv5 of source, VAC id and language
    expected = str(uuid.uuid5(uuid.NAMESPACE_URL, f"loket:rijksoverheid|{record['id']}|nl"))
    assert item.id == draft.item_id == expected
    assert item.source_id == record["id"]
    assert item.url == record["canonical"]


def test_govuk_ingests_157_items(services):
    report = services.catalog.ingest_location(str(GOVUK))
    assert report.problems == []
    assert report.created == 157
    items = services.catalog.active_items()
    assert len(items) == 157
    assert all(item.url.startswith("https://www.gov.uk/") for item in items)
    assert {item.language for item in items} == {"en", "cy"}


def test_ipdc_samples_ingest(services):
    """Every product in the samples is stored. The samples hold one snapshot of concept 1502 twice (an LDES
    page and a SHACL test file whose legal-resource data differs), so those drafts are reported as duplicates
    with different content and the first read is kept; any other problem fails the test."""
    per_file: dict[str, list[ItemDraft]] = {}
    for file in sorted(IPDC_SAMPLES.iterdir()):
        if file.is_file() and not file.name.startswith("."):
            records = list(read(str(file)))
            assert not [r for r in records if isinstance(r, Problem)], file.name
            per_file[file.name] = [r for r in records if isinstance(r, ItemDraft)]
    assert all(per_file.values())
    hashes: dict[str, set[str]] = {}
    current: set[str] = set()  # the sample products carry end dates, some of them already past
    for drafts in per_file.values():
        for draft in drafts:
            hashes.setdefault(draft.item_id, set()).add(draft.content_hash)
            if draft.valid_until is None or draft.valid_until > datetime.now(UTC):
                current.add(draft.item_id)
    conflicting = {item_id for item_id, found in hashes.items() if len(found) > 1}

    report = services.catalog.ingest_location(str(IPDC_SAMPLES))
    assert report.created == len(hashes)
    assert all("appears twice with different content" in p.message for p in report.problems)
    assert len(report.problems) == len(conflicting)
    assert {p.where.split("/")[0] for p in report.problems} <= {"ipdc"}
    stored = [services.catalog.get(item_id) for item_id in hashes]
    assert {item.source for item in stored} == {"ipdc"}
    assert {item.language for item in stored} >= {"nl", "nl-BE-x-formal", "nl-BE-x-informal", "en"}
    assert current
    assert {item.id for item in services.catalog.active_items()} == current

    again = services.catalog.ingest_location(str(IPDC_SAMPLES))
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(hashes))


def test_ipdc_ldes_pages_ingest_without_problems(services):
    pages = sorted(IPDC_SAMPLES.glob("tests_*ldes-pages_page-*.json"))
    assert len(pages) == 3
    created = 0
    for page in pages:
        report = services.catalog.ingest_location(str(page))
        assert report.problems == [], page.name
        assert report.created > 0, page.name
        created += report.created
    assert services.catalog.revision()[0] == created


def test_source_override(services):
    files = vac_files()[:2]
    report = services.catalog.ingest_location(str(files[0]), source="other")
    assert report.created == 1
    report = services.catalog.ingest_location(str(files[1]))
    assert report.created == 1
    assert services.catalog.counts() == {("other", "active"): 1, ("rijksoverheid", "active"): 1}
    by_source = {item.source: item for item in services.catalog.active_items()}
    assert by_source["other"].source_id == files[0].stem
    assert by_source["rijksoverheid"].source_id == files[1].stem


def test_problem_records_reach_the_report(services, tmp_path):
    missing = tmp_path / "nergens"
    report = services.catalog.ingest_location(str(missing))
    assert report.problems == [Problem(str(missing), "no such file or folder")]
    assert not report.ok
    assert report.seen == 0

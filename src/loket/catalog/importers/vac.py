"""Rijksoverheid "vraag-antwoordcombinaties" (VAC): the open-data API's JSON records and the CSV export.

Both shapes give the same drafts for the same record, so switching between them changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from html import escape

from loket.catalog.importers.document import Document
from loket.catalog.importers.text import html_to_sections
from loket.catalog.schemas import ItemDraft, Problem, Section

FORMAT = "vac"
SOURCE = "rijksoverheid"
INTRO_HEADING = "Antwoord"
_CSV_COLUMNS = {"id", "question", "reference_answer_html", "canonical"}


def sniff(doc: Document) -> bool:
    head = doc.head()
    if doc.suffix == ".csv":
        return set(head.splitlines()[0].split(",")) >= _CSV_COLUMNS if head else False
    return head.startswith(("{", "[")) and '"canonical"' in head and '"question"' in head


def parse(doc: Document) -> Iterator[ItemDraft | Problem]:
    if doc.suffix == ".csv":
        rows = csv.DictReader(io.StringIO(doc.text, newline=""))
        for number, row in enumerate(rows, start=2):
            yield _draft_or_problem(f"{doc.name}:{number}", row, _csv_sections)
        return
    data = json.loads(doc.text)
    records = data if isinstance(data, list) else [data]
    for number, record in enumerate(records, start=1):
        where = doc.name if len(records) == 1 else f"{doc.name}[{number}]"
        yield _draft_or_problem(where, record, _api_sections)


def _draft_or_problem(where: str, record: dict, sections_of) -> ItemDraft | Problem:
    if not isinstance(record, dict):
        return Problem(where, "a VAC record must be an object")
    missing = [name for name in ("id", "question", "canonical") if not record.get(name)]
    if missing:
        return Problem(where, f"VAC record lacks {', '.join(missing)}")
    sections = sections_of(record)
    return ItemDraft(
        source=SOURCE,
        source_id=record["id"],
        url=record["canonical"],
        language=(record.get("language") or "nl").split("-")[0].lower(),
        title=record["question"].strip(),
        summary=sections[0].text.split("\n", 1)[0] if sections else "",
        sections=tuple(sections),
        themes=_names(record.get("themes")),
        authority=", ".join(_names(record.get("authorities"))),
        keywords=_names(record.get("subjects")),
        modified=_timestamp(record.get("lastmodified")),
        licence=record.get("license") or "",
    )


def _api_sections(record: dict) -> list[Section]:
    html = (record.get("introduction") or "") + "".join(
        (f"<h2>{escape(title)}</h2>" if (title := part.get("paragraphtitle")) else "")
        + (part.get("paragraph") or "")
        for part in record.get("content") or []
    )
    return html_to_sections(html, INTRO_HEADING)


def _csv_sections(record: dict) -> list[Section]:
    """The CSV writes paragraph titles as bare text between the HTML paragraphs: make them headings."""
    html = re.sub(
        r"(?m)^(?!\s*<)([^<\n][^\n]*?)\s*$", r"<h2>\1</h2>", record.get("reference_answer_html") or ""
    )
    return html_to_sections(html, INTRO_HEADING)


def _names(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if not value:
        return ()
    items = value.split("|") if isinstance(value, str) else value
    return tuple(item.strip() for item in items if item and item.strip())


def _timestamp(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None

"""GOV.UK content as JSON lines: one page per line, a markdown body or, for guides, HTML parts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from loket.catalog.importers.document import Document
from loket.catalog.importers.text import html_to_sections, markdown_to_sections, unique_anchors
from loket.catalog.schemas import ItemDraft, Problem, Section

FORMAT = "govuk"
SOURCE = "govuk"
LICENCE = "OGL-UK-3.0"


def sniff(doc: Document) -> bool:
    first_line = doc.head(8192).split("\n", 1)[0]
    return (first_line.startswith("{") and '"body_markdown"' in first_line) or (
        doc.suffix == ".jsonl" and '"base_path"' in first_line
    )


def parse(doc: Document) -> Iterator[ItemDraft | Problem]:
    for number, line in enumerate(doc.text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{doc.name}:{number}"
        try:
            page = json.loads(line)
        except json.JSONDecodeError as error:
            yield Problem(where, f"not a JSON line ({error.msg})")
            continue
        if not isinstance(page, dict) or not page.get("url") or not page.get("title"):
            yield Problem(where, "a GOV.UK page needs at least url and title")
            continue
        yield ItemDraft(
            source=SOURCE,
            source_id=page.get("content_id") or page["url"],
            url=page["url"],
            language=page.get("locale") or "en",
            title=page["title"].strip(),
            summary=(page.get("description") or "").strip(),
            sections=tuple(_sections(page)),
            themes=(page["document_type"],) if page.get("document_type") else (),
            authority="GOV.UK",
            created=_timestamp(page.get("first_published_at")),
            modified=_timestamp(page.get("public_updated_at")),
            licence=LICENCE,
        )


def _sections(page: dict) -> list[Section]:
    """Guides come in parts, each its own page; their sections are named after the part."""
    if not page.get("parts"):
        return markdown_to_sections(page.get("body_markdown") or "", page["title"])
    sections = []
    for part in page["parts"]:
        title = part.get("title") or page["title"]
        for section in html_to_sections(part.get("body") or "", title):
            heading = section.heading if section.heading == title else f"{title}: {section.heading}"
            sections.append(Section(heading=heading, text=section.text))
    return unique_anchors(sections)


def _timestamp(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None

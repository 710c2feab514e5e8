"""Plain Markdown and HTML pages, alone or in folders: how an agency loads content it writes itself.

Markdown may carry YAML front matter with the catalogue fields (id, language, title, summary, url,
audiences, themes, authority, keywords, created, modified, valid_until, licence, source). HTML pages
are reduced to their main content with trafilatura, so menus and footers never reach an answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import PurePath

import frontmatter
import trafilatura
from bs4 import BeautifulSoup

from loket.catalog.importers.document import Document
from loket.catalog.importers.text import html_to_sections, markdown_to_sections
from loket.catalog.schemas import Audience, ItemDraft, Problem, Section

FORMAT = "markdown"
SOURCE = "local"
_MARKDOWN = (".md", ".markdown")
_HTML = (".html", ".htm")


def sniff(doc: Document) -> bool:
    return doc.suffix in _MARKDOWN + _HTML or doc.media_type in ("text/markdown", "text/html")


def parse(doc: Document) -> Iterator[ItemDraft | Problem]:
    is_html = doc.suffix in _HTML or doc.media_type == "text/html"
    meta, title, sections = _read_html(doc) if is_html else _read_markdown(doc)
    stem, language_from_name = _name_parts(doc.name)
    title = str(meta.get("title") or title or "").strip()
    if not title:
        yield Problem(doc.name, "no title: add a title to the front matter or a heading")
        return
    if not sections:
        yield Problem(doc.name, "no text to import")
        return
    try:
        audiences = tuple(Audience(value) for value in _list(meta.get("audiences")))
    except ValueError as error:
        yield Problem(doc.name, f"unknown audience: {error}; use one of {', '.join(Audience)}")
        return
    yield ItemDraft(
        source=str(meta.get("source") or SOURCE),
        source_id=str(meta.get("id") or stem),
        url=str(meta.get("url") or ""),
        language=str(meta.get("language") or language_from_name or "und"),
        title=title,
        summary=str(meta.get("summary") or sections[0].text.split("\n", 1)[0]).strip(),
        sections=tuple(sections),
        audiences=audiences,
        themes=_list(meta.get("themes")),
        authority=str(meta.get("authority") or ""),
        keywords=_list(meta.get("keywords")),
        created=_datetime(meta.get("created")),
        modified=_datetime(meta.get("modified")),
        valid_until=_datetime(meta.get("valid_until")),
        licence=str(meta.get("licence") or ""),
    )


def _read_markdown(doc: Document) -> tuple[dict, str, list[Section]]:
    post = frontmatter.loads(doc.text)
    body = post.content
    heading = re.match(r"\s*#\s+(.+)\n", body)
    title = heading.group(1).strip() if heading else ""
    if heading:
        body = body[heading.end() :]
    return post.metadata, title, markdown_to_sections(body, str(post.metadata.get("title") or title))


def _read_html(doc: Document) -> tuple[dict, str, list[Section]]:
    page = BeautifulSoup(doc.text, "html.parser")
    canonical = page.find("link", rel="canonical")
    description = page.find("meta", attrs={"name": "description"})
    meta = {
        "url": canonical.get("href") if canonical else (doc.name if "://" in doc.name else ""),
        "language": (page.html.get("lang") if page.html else "") or "",
        "summary": description.get("content") if description else "",
    }
    main = trafilatura.extract(doc.text, output_format="html", include_tables=True, favor_recall=True) or ""
    title = page.h1.get_text(" ", strip=True) if page.h1 else (page.title.string or "" if page.title else "")
    sections = [s for s in html_to_sections(main, title) if s.heading != title or s.text]
    return {k: v for k, v in meta.items() if v}, title, sections


def _name_parts(name: str) -> tuple[str, str]:
    """`groeipakket.fr.md` is the French variant of item `groeipakket`."""
    stem = PurePath(name.split("?", 1)[0]).stem
    match = re.fullmatch(r"(.+)\.([a-z]{2})", stem)
    return (match.group(1), match.group(2)) if match else (stem, "")


def _list(value) -> tuple[str, ...]:
    if not value:
        return ()
    values = value if isinstance(value, list) else str(value).split(",")
    return tuple(str(v).strip() for v in values if str(v).strip())


def _datetime(value) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    return _datetime(datetime.fromisoformat(str(value)))

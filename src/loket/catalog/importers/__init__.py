"""Read catalogue content from files, folders and URLs in any supported format.

Each format is a module with `FORMAT`, `sniff(doc)` and `parse(doc)`; a format whose documents link to
further pages (IPDC's LDES feed) also has `next_pages(doc)`, and one whose records are versions has
`versions(doc)` (`importers.versions`): of the pages of one feed, only each record's newest version
counts. This module finds the documents, picks the format and turns every failure into a `Problem`, so
one bad file never stops a batch.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from loket.catalog.importers.document import Document
from loket.catalog.importers.fetch import Fetcher, FetchError
from loket.catalog.importers.versions import Snapshot, newest
from loket.catalog.schemas import ItemDraft, Problem
from loket.harvest import HarvestPolicy

# Each format's module is imported on first use: rdflib, trafilatura and BeautifulSoup take about a
# second to load, and most commands (and the web app's start) never read content.
FORMATS = ("vac", "govuk", "ipdc", "markdown")
FORMAT_NAMES = ("auto", *FORMATS, "html")
_SKIPPED_NAMES = ("SOURCE.md", "README.md", "CHANGELOG", "LICENSE")


def read(
    location: str, fmt: str = "auto", fetcher: Fetcher | None = None, harvest: HarvestPolicy | None = None
) -> Iterator[ItemDraft | Problem]:
    """Every item draft found at `location` (a path, a folder or an http(s) URL), and every problem.

    URLs are fetched by `fetcher`, or by one that follows `harvest` (default: only the first URL's
    host, and only if it is public)."""
    if fmt == "html":
        fmt = "markdown"
    if fmt not in FORMATS and fmt != "auto":
        yield Problem(location, f"unknown format {fmt!r}; choose one of {', '.join(FORMAT_NAMES)}")
        return
    if location.startswith(("http://", "https://")):
        if fetcher:
            yield from _read_urls(location, fmt, fetcher)
        else:
            with Fetcher((harvest or HarvestPolicy()).starting_at(location)) as own_fetcher:
                yield from _read_urls(location, fmt, own_fetcher)
        return
    path = Path(location)
    if not path.exists():
        yield Problem(location, "no such file or folder")
        return
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir() and (file.name.startswith(".") or file.name in _SKIPPED_NAMES):
            continue
        try:
            doc = Document(name=str(file), data=file.read_bytes())
        except OSError as error:
            yield Problem(str(file), f"cannot read: {error.strerror or error}")
            continue
        module = _format_of(doc, fmt)
        if module is None:
            if not path.is_dir():
                yield Problem(str(file), "format not recognised; name one with --format")
            continue
        yield from _parse(module, doc)


def _read_urls(start: str, fmt: str, fetcher: Fetcher) -> Iterator[ItemDraft | Problem]:
    """Fetch `start` and follow the next-page links its format declares, each page once: one feed, so
    a record's version on one page may be superseded by a newer one on another."""
    yield from newest(_read_pages(start, fmt, fetcher))


def _read_pages(start: str, fmt: str, fetcher: Fetcher) -> Iterator[ItemDraft | Problem | Snapshot]:
    queue, seen = [start], {start}
    while queue:
        url = queue.pop(0)
        try:
            doc = fetcher.get(url)
        except FetchError as error:
            yield Problem(url, str(error))
            continue
        module = _format_of(doc, fmt)
        if module is None:
            yield Problem(url, "format not recognised; name one with --format")
            continue
        yield from _parse(module, doc, versions=True)
        for link in getattr(module, "next_pages", lambda _doc: [])(doc):
            if link not in seen:
                seen.add(link)
                queue.append(link)


def format_module(name: str) -> ModuleType:
    return importlib.import_module(f"loket.catalog.importers.{name}")


def _format_of(doc: Document, fmt: str) -> ModuleType | None:
    if fmt != "auto":
        return format_module(fmt)
    return next((module for module in map(format_module, FORMATS) if module.sniff(doc)), None)


def _parse(
    module: ModuleType, doc: Document, versions: bool = False
) -> Iterator[ItemDraft | Problem | Snapshot]:
    """The document's drafts, or with `versions` its versions where its format has them."""
    parse = getattr(module, "versions", module.parse) if versions else module.parse
    try:
        yield from parse(doc)
    except Exception as error:  # a corrupt document must not stop the batch
        yield Problem(doc.name, f"not valid {module.FORMAT} content: {_first_line(error)}")


def _first_line(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:200]

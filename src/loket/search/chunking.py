"""Catalogue items to search chunks.

Each section becomes one or more passages that start with the item title and the section heading, so
a passage says what it is about on its own. Each item also gets a `title` chunk, embedded in the
query form: people's questions are most like the titles (VAC titles are questions themselves).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from loket.catalog.schemas import CatalogItem

MAX_WORDS = 120  # about 160 tokens: chosen by measurement, see docs/adr/0004-search.md

PASSAGE = "passage"
TITLE = "title"


@dataclass(frozen=True)
class Chunk:
    id: str
    item_id: str
    item_hash: str
    position: int
    kind: str
    anchor: str
    heading: str
    text: str

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(f"{self.kind}\n{self.text}".encode()).hexdigest()


def chunk_item(item: CatalogItem) -> list[Chunk]:
    first_anchor = item.sections[0].anchor if item.sections else ""
    pieces = [(TITLE, first_anchor, "", " ".join([item.title, *item.keywords]))]
    for section in item.sections:
        for window in _windows(section.text):
            pieces.append(
                (PASSAGE, section.anchor, section.heading, f"{item.title}\n{section.heading}\n{window}")
            )
    return [
        Chunk(f"{item.id}:{position}", item.id, item.content_hash, position, kind, anchor, heading, text)
        for position, (kind, anchor, heading, text) in enumerate(pieces)
    ]


def _windows(text: str) -> list[str]:
    """Whole lines while they fit; a line longer than a window is cut at word boundaries."""
    windows: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.splitlines():
        words = line.split()
        while len(words) > MAX_WORDS:
            windows.append(" ".join(words[:MAX_WORDS]))
            words = words[MAX_WORDS:]
        if current and size + len(words) > MAX_WORDS:
            windows.append("\n".join(current))
            current, size = [], 0
        if words:
            current.append(" ".join(words))
            size += len(words)
    if current:
        windows.append("\n".join(current))
    return windows

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Document:
    """One file or HTTP response: its name (path or URL), its bytes and, over HTTP, its media type."""

    name: str
    data: bytes
    media_type: str = ""

    @cached_property
    def text(self) -> str:
        return self.data.decode("utf-8-sig")

    @property
    def suffix(self) -> str:
        tail = self.name.rsplit("/", 1)[-1].split("?", 1)[0]
        return "." + tail.rsplit(".", 1)[-1].lower() if "." in tail else ""

    def head(self, size: int = 2048) -> str:
        return self.data[:size].decode("utf-8", "ignore").lstrip("\ufeff \t\r\n")

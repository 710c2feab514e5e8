"""A message's body: plain text or a small Markdown subset, shown as sanitised HTML, with links only
to hosts its agency registered.

Markdown is rendered with raw HTML off (markdown-it's "zero" preset with paragraphs, emphasis, lists
and links), then cleaned by nh3 (the Rust `ammonia` sanitiser) down to those few tags and https links.
Every web address in the body counts, not only Markdown links: a phisher's message tells people to
type an address as often as it links to one, so a bare `www.…` to another host is refused too.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

TAGS = {"p", "br", "em", "strong", "ul", "ol", "li", "a"}
ADDRESS = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]\"']+", re.IGNORECASE)
_markdown = MarkdownIt("zero", {"html": False, "breaks": True}).enable(
    ["emphasis", "list", "link", "autolink", "newline"]
)


def links(body: str) -> list[str]:
    """Every address the body links to or spells out."""
    found = [
        token.attrGet("href") or "" for token in _walk(_markdown.parse(body)) if token.type == "link_open"
    ]
    return found + ADDRESS.findall(body)


def refused_link(body: str, hosts: set[str]) -> str | None:
    """The first address that is not https on one of `hosts` (or a subdomain of one), if any."""
    for address in links(body):
        parts = urlsplit(address if "://" in address else f"https://{address}")
        host = (parts.hostname or "").lower()
        allowed = any(host == h or host.endswith(f".{h}") for h in hosts)
        if parts.scheme != "https" or not allowed:
            return address
    return None


def html(body: str) -> str:
    """The body as HTML safe to put in a page."""
    return nh3.clean(
        _markdown.render(body),
        tags=TAGS,
        attributes={"a": {"href"}},
        url_schemes={"https"},
        link_rel="noopener noreferrer",
    )


def _walk(tokens):
    for token in tokens:
        yield token
        yield from _walk(token.children or [])

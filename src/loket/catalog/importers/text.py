"""Turn the HTML and Markdown bodies of public-service pages into plain text and titled sections.

Every importer goes through here, so one rule decides what a section is: a heading and the
paragraphs, lists and tables under it. Text keeps list bullets so answers quoting it stay readable.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from markdown_it import MarkdownIt

from loket.catalog.schemas import Section

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BLOCKS = (
    "p",
    "li",
    "dt",
    "dd",
    "tr",
    "blockquote",
    "pre",
    "div",
    "section",
    "article",
    "ul",
    "ol",
    "table",
    "main",
)
_markdown = MarkdownIt("commonmark").enable("table")


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: one line per paragraph or list item."""
    if not html or "<" not in html:
        return _tidy(html or "")
    return _tidy("\n".join(_block_lines(BeautifulSoup(html, "html.parser"))))


def html_to_sections(html: str, intro_heading: str) -> list[Section]:
    """Split HTML at its headings; text before the first heading goes under `intro_heading`."""
    soup = BeautifulSoup(html or "", "html.parser")
    root = soup.body or soup
    sections: list[Section] = []
    heading, lines = intro_heading, []

    def close() -> None:
        text = _tidy("\n".join(lines))
        if text:
            sections.append(Section(heading=heading, text=text))

    for node in root.children:
        if isinstance(node, Tag) and node.name in _HEADINGS:
            close()
            heading, lines = " ".join(node.get_text(" ").split()), []
        elif isinstance(node, Tag):
            lines.extend(_block_lines(node))
        elif isinstance(node, NavigableString) and node.strip():
            lines.append(str(node).strip())
    close()
    return unique_anchors(sections)


def markdown_to_sections(markdown: str, intro_heading: str) -> list[Section]:
    return html_to_sections(_markdown.render(markdown or ""), intro_heading)


def _block_lines(node: Tag) -> list[str]:
    """One line per paragraph, list item or table row; inline text between blocks joins into one line."""
    lines: list[str] = []
    run: list[str] = []

    def flush() -> None:
        text = " ".join("".join(run).split())
        if text:
            lines.append(text)
        run.clear()

    for child in node.children:
        if isinstance(child, NavigableString):
            run.append(str(child))
        elif child.name in ("script", "style"):
            continue
        elif child.name == "br":
            flush()
        elif not (child.name in _BLOCKS or child.name in _HEADINGS or child.find((*_BLOCKS, "br"))):
            run.append(child.get_text(""))
        else:
            flush()
            if child.name == "li":
                item = _block_lines(child) or [""]
                lines.append(f"- {item[0]}".rstrip())
                lines.extend("  " + line for line in item[1:])
            elif child.name == "tr":
                cells = (" ".join(cell.get_text(" ").split()) for cell in child.find_all(("td", "th")))
                lines.append(" | ".join(cell for cell in cells if cell))
            else:
                lines.extend(_block_lines(child))
    flush()
    return lines


def _tidy(text: str) -> str:
    text = text.replace("\u00a0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line for line in lines if line.strip())).strip()


def unique_anchors(sections: list[Section]) -> list[Section]:
    seen: dict[str, int] = {}
    unique = []
    for section in sections:
        count = seen.get(section.anchor, 0)
        seen[section.anchor] = count + 1
        anchor = section.anchor if count == 0 else f"{section.anchor}-{count + 1}"
        unique.append(Section(heading=section.heading, text=section.text, anchor=anchor))
    return unique

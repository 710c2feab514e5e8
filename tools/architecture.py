"""Draws the blocks and their imports as a Mermaid diagram, from the code itself (grimp's import graph).

`make architecture` writes it into docs/architecture.md between the two `blocks` markers; a test fails
when the diagram there no longer matches the code. Plumbing (config, db, deps, i18n, ...) is one node
that everything may use, so its arrows are left out.
"""

from __future__ import annotations

import sys
from pathlib import Path

import grimp

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
START, END = "<!-- blocks:start (make architecture) -->", "<!-- blocks:end -->"
BLOCKS = (
    "catalog",
    "consent",
    "partners",
    "search",
    "identity",
    "cases",
    "messages",
    "proactive",
    "reports",
    "assistant",
    "handoff",
    "insight",
)
# Above the blocks: what uses them. Below: plumbing.
USERS = ("__main__", "cli", "web", "evaluation", "services", "models")
PLUMBING = (
    "config",
    "db",
    "deps",
    "i18n",
    "texts",
    "errors",
    "logging",
    "tracing",
    "clock",
    "cookies",
    "forms",
    "ratelimit",
    "harvest",
    "jobs",
    "events",
    "personal_data",
    "business_hours",
)


def _node(module: str) -> str:
    part = module.split(".")[1] if "." in module else "loket"
    return part if part in BLOCKS + USERS else "plumbing"


def edges() -> list[tuple[str, str]]:
    graph = grimp.build_graph("loket")
    found = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            here, there = _node(module), _node(imported)
            if here != there and "plumbing" not in (here, there):
                found.add((here, there))
    return sorted(found)


def diagram() -> str:
    lines = ["```mermaid", "flowchart TD"]
    lines += [f"    {here} --> {there}" for here, there in edges()]
    lines.append(f"    plumbing[plumbing: {', '.join(PLUMBING)}]")
    lines.append("```")
    return "\n".join(lines)


def current(text: str) -> str:
    """The diagram as the document holds it now."""
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def main() -> None:
    text = DOC.read_text()
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    DOC.write_text(f"{head}{START}\n{diagram()}\n{END}{tail}")
    print(f"docs/architecture.md: {len(edges())} arrows between blocks", file=sys.stderr)


if __name__ == "__main__":
    main()

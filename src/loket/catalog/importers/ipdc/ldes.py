"""LDES/TREE paging: an IPDC feed is a chain of pages, each linking to the next by a tree relation."""

from __future__ import annotations

from loket.catalog.importers.document import Document
from loket.catalog.importers.ipdc.context import graph_of
from loket.catalog.importers.ipdc.mapping import TREE


def next_pages(doc: Document) -> list[str]:
    """A page that cannot be read has no next pages; `parse` has already reported why."""
    try:
        graph = graph_of(doc)
    except Exception:
        return []
    return sorted(
        {str(page) for rel in graph.objects(None, TREE.relation) for page in graph.objects(rel, TREE.node)}
    )

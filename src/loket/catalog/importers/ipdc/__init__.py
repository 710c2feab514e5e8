"""IPDC, the Flemish inter-governmental product catalogue (LPDC, its local side): the public services of
Flemish and local governments, published as concept and instance snapshots in an LDES feed of JSON-LD.

- `context`: the JSON-LD contexts (never fetched), any shape of a document into one RDF graph, sniffing;
- `ldes`: the next pages of an LDES page;
- `mapping`: the vocabulary and code lists, and the latest version of each product as item drafts;
  `versions` gives every version, for the reader to keep the newest over all of a feed's pages.
"""

from __future__ import annotations

from collections.abc import Iterator

from loket.catalog.importers.document import Document
from loket.catalog.importers.ipdc.context import BUILTIN_CONTEXTS, CONTEXT_DIR_ENV, graph_of, sniff
from loket.catalog.importers.ipdc.ldes import next_pages
from loket.catalog.importers.ipdc.mapping import AUDIENCES, SOURCE, _local_name, drafts, snapshots
from loket.catalog.importers.versions import Snapshot
from loket.catalog.schemas import ItemDraft, Problem

FORMAT = "ipdc"

# `_local_name` is here for the tests that check the code lists.
__all__ = [
    "AUDIENCES",
    "BUILTIN_CONTEXTS",
    "CONTEXT_DIR_ENV",
    "FORMAT",
    "SOURCE",
    "_local_name",
    "next_pages",
    "parse",
    "sniff",
    "versions",
]


def parse(doc: Document) -> Iterator[ItemDraft | Problem]:
    yield from drafts(graph_of(doc), doc.name)


def versions(doc: Document) -> Iterator[Snapshot]:
    yield from snapshots(graph_of(doc), doc.name)

"""The Flemish product catalogue (IPDC / LPDC): concept and instance snapshots from LDES pages.

A record comes as compacted JSON-LD (the LDES feed), expanded JSON-LD or N-Triples/Turtle. Every shape
is first turned into one RDF graph and read by full IRIs, so the three shapes share one mapping and give
the same drafts. JSON-LD contexts are never fetched: they are looked up by file name in
`LOKET_IPDC_CONTEXT_DIR`, else in the small copy below, which holds only the terms we read.

A page may hold several snapshots of one product; only the latest counts. An archived latest snapshot
yields nothing: the product is gone, and withdrawing it is the catalogue's job on a full re-sync.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, RDF, RDFS, SH, SKOS, XSD
from rdflib.term import Node

from loket.catalog.importers.document import Document
from loket.catalog.importers.text import html_to_text
from loket.catalog.schemas import Audience, ItemDraft, Problem, Section
from loket.config import Settings

FORMAT = "ipdc"
SOURCE = "ipdc"
CONTEXT_DIR_ENV = "LOKET_IPDC_CONTEXT_DIR"  # the setting `ipdc_context_dir`

IPDC = Namespace("https://productencatalogus.data.vlaanderen.be/ns/ipdc-lpdc#")
M8G = Namespace("http://data.europa.eu/m8g/")
CPSV = Namespace("http://purl.org/vocab/cpsv#")
BELGIF = Namespace("http://vocab.belgif.be/ns/publicservice#")
SCHEMA = Namespace("http://schema.org/")  # IPDC uses http, not rdflib's https schema.org namespace
ELI = Namespace("http://data.europa.eu/eli/ontology#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
ADRES = Namespace("https://data.vlaanderen.be/ns/adres#")
TREE = Namespace("https://w3id.org/tree#")
LDES = Namespace("https://w3id.org/ldes#")
CODE_LISTS = "https://productencatalogus.data.vlaanderen.be/id/concept/"

PRODUCT_TYPES = (
    IPDC.ConceptualPublicService,
    IPDC.ConceptualPublicServiceSnapshot,
    IPDC.InstancePublicService,
    IPDC.InstancePublicServiceSnapshot,
)

# The `doelgroep` code list by local name; a test checks every code in the real list is here.
AUDIENCES = {
    "Burger": Audience.CITIZEN,
    "Onderneming": Audience.BUSINESS,
    "Vereniging": Audience.ASSOCIATION,
    "LokaalBestuur": Audience.LOCAL_GOVERNMENT,
    "VlaamseOverheid": Audience.FLEMISH_GOVERNMENT,
    "Organisatie": Audience.OTHER_ORGANISATION,
}

# IPDC writes Dutch in a formal and an informal register, generated or written by hand; we keep one
# language per register, whoever wrote it.
LANGUAGES = {
    "nl": "nl",
    "nl-be-x-formal": "nl-BE-x-formal",
    "nl-be-x-generated-formal": "nl-BE-x-formal",
    "nl-be-x-informal": "nl-BE-x-informal",
    "nl-be-x-generated-informal": "nl-BE-x-informal",
    "en": "en",
}

_WORDS = {
    "nl": {
        "description": "Beschrijving",
        "conditions": "Voorwaarden",
        "procedure": "Procedure",
        "cost": "Kosten",
        "financial": "Financieel voordeel",
        "exceptions": "Uitzonderingen",
        "legal": "Regelgeving",
        "contact": "Contact",
        "websites": "Meer informatie",
        "email": "E-mail",
        "telephone": "Telefoon",
        "website": "Website",
        "hours": "Openingsuren",
        "address": "Adres",
        "box": "bus",
    },
    "en": {
        "description": "Description",
        "conditions": "Conditions",
        "procedure": "Procedure",
        "cost": "Costs",
        "financial": "Financial benefit",
        "exceptions": "Exceptions",
        "legal": "Legal basis",
        "contact": "Contact",
        "websites": "More information",
        "email": "Email",
        "telephone": "Telephone",
        "website": "Website",
        "hours": "Opening hours",
        "address": "Address",
        "box": "box",
    },
}


def _lang(iri: str) -> dict:
    return {"@id": str(iri), "@container": "@language"}


def _typed(iri: str, datatype: str) -> dict:
    return {"@id": str(iri), "@type": str(datatype)}


def _ref(iri: str) -> dict:
    return {"@id": str(iri), "@type": "@id"}


def _refs(iri: str, base: str = "") -> dict:
    term = {"@container": "@set", "@id": str(iri), "@type": "@id"}
    return term | {"@context": {"@base": base}} if base else term


def _class(iri: str, terms: dict) -> dict:
    return {"@context": terms, "@id": str(iri)}


_NAMED = {"naam": _lang(DCTERMS.title), "beschrijving": _lang(DCTERMS.description)}
_ORDERED = {"order": _typed(SH.order, XSD.integer)}
_URL = {"url": _typed(SCHEMA.url, XSD.string)}
_PRODUCT = _NAMED | {
    "verdereBeschrijving": _lang(IPDC.additionalDescription),
    "uitzonderingen": _lang(IPDC.exception),
    "regelgevingTekst": _lang(IPDC.regulation),
    "voorwaarden": _refs(BELGIF.hasRequirement),
    "procedures": _refs(CPSV.follows),
    "kosten": _refs(M8G.hasCost),
    "financieleVoordelen": _refs(CPSV.produces),
    "regelgeving": _refs(M8G.hasLegalResource),
    "websites": _refs(RDFS.seeAlso),
    "doelgroepen": _refs(IPDC.targetAudience, CODE_LISTS + "Doelgroep/"),
    "themas": _refs(M8G.thematicArea, CODE_LISTS + "Thema/"),
    "bevoegdBestuursniveaus": _refs(IPDC.competentAuthorityLevel, CODE_LISTS + "BevoegdBestuursniveau/"),
    "bevoegdeOverheden": _refs(M8G.hasCompetentAuthority, "https://data.vlaanderen.be/id/organisatie/"),
    "zoektermen": {"@container": ["@language", "@set"], "@id": str(DCAT.keyword)},
    "productnummer": _typed(SCHEMA.productID, XSD.string),
    "creatie": _typed(SCHEMA.dateCreated, XSD.dateTime),
    "laatstGewijzigd": _typed(SCHEMA.dateModified, XSD.dateTime),
    "eindeDienstVerlening": _typed(SCHEMA.endDate, XSD.dateTime),
    "gearchiveerd": _typed(IPDC.isArchived, XSD.boolean),
}
_SNAPSHOT = {
    "isVersionOf": _ref(DCTERMS.isVersionOf),
    "generatedAtTime": _typed(PROV.generatedAtTime, XSD.dateTime),
}
_INSTANCE = {"contactgegevens": _refs(M8G.hasContactPoint)}

BUILTIN_CONTEXTS: dict[str, dict] = {
    "ipdc-lpdc-im.jsonld": {
        "Concept": _class(IPDC.ConceptualPublicService, _PRODUCT),
        "ConceptSnapshot": _class(IPDC.ConceptualPublicServiceSnapshot, _PRODUCT | _SNAPSHOT),
        "Instantie": _class(IPDC.InstancePublicService, _PRODUCT | _INSTANCE),
        "InstantieSnapshot": _class(IPDC.InstancePublicServiceSnapshot, _PRODUCT | _SNAPSHOT | _INSTANCE),
        "Voorwaarde": _class(
            M8G.Requirement, _NAMED | _ORDERED | {"bewijs": _ref(M8G.hasSupportingEvidence)}
        ),
        "Bewijs": _class(M8G.Evidence, _NAMED),
        "Procedure": _class(CPSV.Rule, _NAMED | _ORDERED | {"websites": _refs(IPDC.hasWebsite)}),
        "Kost": _class(M8G.Cost, _NAMED | _ORDERED),
        "FinancieelVoordeel": _class(IPDC.FinancialAdvantage, _NAMED | _ORDERED),
        "Regelgeving": _class(ELI.LegalResource, _NAMED | _ORDERED | _URL),
        "Website": _class(SCHEMA.WebSite, _NAMED | _ORDERED | _URL),
        "Contactgegevens": _class(
            SCHEMA.ContactPoint,
            _ORDERED
            | _URL
            | {
                "email": _typed(SCHEMA.email, XSD.string),
                "telefoonnummer": _typed(SCHEMA.telephone, XSD.string),
                "openingsuren": _typed(SCHEMA.openingHours, XSD.string),
                "adres": _ref(IPDC.address),
            },
        ),
        "Adres": _class(
            LOCN.Address,
            {
                "straatnaam": _lang(ADRES.Straatnaam),
                "huisnummer": _typed(ADRES["Adresvoorstelling.huisnummer"], XSD.string),
                "busnummer": _typed(ADRES["Adresvoorstelling.busnummer"], XSD.string),
                "postcode": _typed(ADRES.postcode, XSD.string),
                "gemeentenaam": _lang(ADRES.gemeentenaam),
                "land": _lang(ADRES.land),
            },
        ),
        "PubliekeOrganisatie": str(M8G.PublicOrganisation),
    },
    "ldes.jsonld": {
        "EventStream": _class(
            LDES.EventStream,
            {"member": {"@id": str(TREE.member), "@container": "@set"}, "view": str(TREE.view)},
        ),
        "Node": _class(TREE.Node, {"relation": {"@id": str(TREE.relation), "@container": "@set"}}),
        **{
            name: _class(TREE[name], {"node": _ref(TREE.node)})
            for name in (
                "GreaterThanRelation",
                "GreaterThanOrEqualToRelation",
                "LessThanRelation",
                "LessThanOrEqualToRelation",
            )
        },
    },
}

_JSON_MARKERS = re.compile(
    r'"@type"\s*:\s*\[?\s*"(ConceptSnapshot|InstantieSnapshot|Concept|Instantie)"'
    r"|productencatalogus\.data\.vlaanderen\.be/ns/ipdc-lpdc#"
    r"|ipdc-lpdc-im\.jsonld"
)
_RDF_MEDIA_TYPES = ("text/turtle", "application/n-triples")


def sniff(doc: Document) -> bool:
    head = doc.head(16384)
    if head.startswith(("{", "[")):
        ldes_page = '"EventStream"' in head and '"member"' in head
        return ldes_page or bool(_JSON_MARKERS.search(head))
    rdf = doc.suffix in (".nt", ".ttl") or doc.media_type in _RDF_MEDIA_TYPES
    return rdf and str(IPDC) in head


def parse(doc: Document) -> Iterator[ItemDraft | Problem]:
    graph = _graph(doc)
    records = set(graph.objects(None, TREE.member)) | {
        node for kind in PRODUCT_TYPES for node in graph.subjects(RDF.type, kind)
    }
    for node in sorted(_latest_versions(graph, records), key=str):
        if _is_true(graph.value(node, IPDC.isArchived)):
            continue
        yield from _drafts(graph, node, where=f"{doc.name} <{node}>")


def next_pages(doc: Document) -> list[str]:
    """A page that cannot be read has no next pages; `parse` has already reported why."""
    try:
        graph = _graph(doc)
    except Exception:
        return []
    return sorted(
        {str(page) for rel in graph.objects(None, TREE.relation) for page in graph.objects(rel, TREE.node)}
    )


def _graph(doc: Document) -> Graph:
    return _parse_graph(doc, str(Settings().ipdc_context_dir or ""))


@lru_cache(maxsize=1)
def _parse_graph(doc: Document, context_dir: str) -> Graph:
    """Cached for the one document the reader handles, which asks for its items and then its next pages."""
    base = doc.name if doc.name.startswith(("http://", "https://")) else None
    if not doc.head().startswith(("{", "[")):
        return Graph().parse(data=doc.text, format="nt" if doc.suffix == ".nt" else "turtle", publicID=base)
    data = _with_local_contexts(json.loads(doc.text), context_dir)
    if isinstance(data, list):  # rdflib takes a JSON-LD object only; a top-level array is its default graph
        data = {"@graph": data}
    return Graph().parse(data=data, format="json-ld", publicID=base)


def _with_local_contexts(value, context_dir: str):
    """The JSON-LD with every referenced `@context` replaced by its local copy, so nothing is fetched."""
    if isinstance(value, list):
        return [_with_local_contexts(item, context_dir) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: _local_context(item, context_dir)
        if key == "@context"
        else _with_local_contexts(item, context_dir)
        for key, item in value.items()
    }


def _local_context(context, context_dir: str):
    if isinstance(context, list):
        return [_local_context(item, context_dir) for item in context]
    if not isinstance(context, str):
        return _with_local_contexts(context, context_dir)
    name = context.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    path = Path(context_dir, name) if context_dir else None
    if path and path.is_file():
        return _local_context(json.loads(path.read_text(encoding="utf-8"))["@context"], context_dir)
    if name in BUILTIN_CONTEXTS:
        return BUILTIN_CONTEXTS[name]
    raise ValueError(f"JSON-LD context {context} is not available offline; put {name} in ${CONTEXT_DIR_ENV}")


def _latest_versions(graph: Graph, records: set[Node]) -> list[Node]:
    latest: dict[Node, Node] = {}
    for node in records:
        product = graph.value(node, DCTERMS.isVersionOf) or node
        if product not in latest or _version_stamp(graph, node) > _version_stamp(graph, latest[product]):
            latest[product] = node
    return list(latest.values())


def _version_stamp(graph: Graph, node: Node) -> tuple[datetime, str]:
    return (
        _timestamp(graph.value(node, PROV.generatedAtTime)) or datetime.min.replace(tzinfo=UTC),
        str(node),
    )


def _drafts(graph: Graph, node: Node, where: str) -> Iterator[ItemDraft | Problem]:
    url = graph.value(node, DCTERMS.isVersionOf) or (node if isinstance(node, URIRef) else None)
    titles = [title for title in graph.objects(node, DCTERMS.title) if isinstance(title, Literal)]
    languages = {_language_of(title) for title in titles} & set(LANGUAGES.values())
    if not url:
        yield Problem(where, "IPDC record has no concept or instance URI")
        return
    if not languages:
        yield Problem(
            where, f"IPDC record has no name in any of {', '.join(sorted(set(LANGUAGES.values())))}"
        )
        return
    # A concept is one product; every municipality's instance of it shares the product number, so
    # instances are told apart by their own URI.
    instance = any((node, RDF.type, kind) in graph for kind in PRODUCT_TYPES[2:])
    product_number = None if instance else graph.value(node, SCHEMA.productID)
    audiences = {AUDIENCES.get(_local_name(code)) for code in graph.objects(node, IPDC.targetAudience)}
    shared = {
        "source": SOURCE,
        "source_id": str(product_number or url),
        "url": str(url),
        "audiences": tuple(audience for audience in Audience if audience in audiences),
        "themes": tuple(sorted({_local_name(theme) for theme in graph.objects(node, M8G.thematicArea)})),
        "created": _timestamp(graph.value(node, SCHEMA.dateCreated)),
        "modified": _timestamp(graph.value(node, SCHEMA.dateModified)),
        "valid_until": _timestamp(graph.value(node, SCHEMA.endDate)),
        "licence": str(graph.value(node, DCTERMS.license) or ""),
    }
    for language in sorted(languages, key=list(LANGUAGES.values()).index):
        reader = _Reader(graph, language)
        yield ItemDraft(
            language=language,
            title=reader.text(node, DCTERMS.title).strip(),
            summary=reader.plain(node, DCTERMS.description),
            sections=tuple(reader.sections(node)),
            authority=reader.authority(node),
            keywords=reader.keywords(node),
            **shared,
        )


class _Reader:
    """Reads one product in one language: each text in that language, else plain Dutch for a Dutch
    register, else without a language tag."""

    def __init__(self, graph: Graph, language: str) -> None:
        self.graph = graph
        self.language = language
        self.words = _WORDS["en" if language == "en" else "nl"]
        self.fallbacks = (language, "nl", None) if language.startswith("nl") else (language, None)

    def text(self, node: Node, predicate: URIRef, any_language: bool = False) -> str:
        values = [value for value in self.graph.objects(node, predicate) if isinstance(value, Literal)]
        for wanted in self.fallbacks:
            matches = [value for value in values if _language_of(value) == wanted]
            if matches:
                return min(str(value) for value in matches)
        return min((str(value) for value in values), default="") if any_language else ""

    def plain(self, node: Node, predicate: URIRef) -> str:
        return html_to_text(self.text(node, predicate))

    def sections(self, node: Node) -> Iterator[Section]:
        parts = {
            "description": [
                self.plain(node, DCTERMS.description),
                self.plain(node, IPDC.additionalDescription),
            ],
            "conditions": self.children(node, BELGIF.hasRequirement, self.requirement),
            "procedure": self.children(node, CPSV.follows, self.procedure),
            "cost": self.children(node, M8G.hasCost, self.named),
            "financial": self.children(node, CPSV.produces, self.named),
            "exceptions": [self.plain(node, IPDC.exception)],
            "legal": [
                self.plain(node, IPDC.regulation),
                *self.children(node, M8G.hasLegalResource, self.legal),
            ],
            "contact": self.children(node, M8G.hasContactPoint, self.contact),
            "websites": self.children(node, RDFS.seeAlso, self.website),
        }
        for name, texts in parts.items():
            text = _lines(texts)
            if text:
                yield Section(heading=self.words[name], text=text)

    def children(self, node: Node, predicate: URIRef, render: Callable[[Node], str]) -> list[str]:
        """Sub-items in their `shacl:order`; unordered ones last and ties by text, so every shape agrees."""
        return [
            text
            for _, text in sorted(
                (_order(self.graph, child), render(child)) for child in self.graph.objects(node, predicate)
            )
        ]

    def named(self, node: Node) -> str:
        return _lines([self.text(node, DCTERMS.title), self.plain(node, DCTERMS.description)])

    def requirement(self, node: Node) -> str:
        evidence = [self.named(proof) for proof in self.graph.objects(node, M8G.hasSupportingEvidence)]
        return _lines([self.named(node), *sorted(evidence)])

    def procedure(self, node: Node) -> str:
        return _lines([self.named(node), *self.children(node, IPDC.hasWebsite, self.website)])

    def legal(self, node: Node) -> str:
        return _lines([self.named(node), self.text(node, SCHEMA.url)])

    def website(self, node: Node) -> str:
        return ": ".join(
            part for part in (self.text(node, DCTERMS.title), self.text(node, SCHEMA.url)) if part
        )

    def contact(self, node: Node) -> str:
        fields = [
            ("email", self.text(node, SCHEMA.email)),
            ("telephone", self.text(node, SCHEMA.telephone)),
            ("website", self.text(node, SCHEMA.url)),
            ("hours", self.text(node, SCHEMA.openingHours)),
            *(("address", self.address(address)) for address in self.graph.objects(node, IPDC.address)),
        ]
        return _lines([f"{self.words[name]}: {value}" for name, value in fields if value])

    def address(self, node: Node) -> str:
        """Street and place names are tagged Dutch, but an English page shows them as they are."""

        def part(predicate: URIRef) -> str:
            return self.text(node, predicate, any_language=True)

        street = " ".join(filter(None, [part(ADRES.Straatnaam), part(ADRES["Adresvoorstelling.huisnummer"])]))
        if box := part(ADRES["Adresvoorstelling.busnummer"]):
            street = f"{street} {self.words['box']} {box}"
        place = " ".join(filter(None, [part(ADRES.postcode), part(ADRES.gemeentenaam)]))
        return ", ".join(filter(None, [street, place, part(ADRES.land)]))

    def authority(self, node: Node) -> str:
        """The competent organisation by name when the graph has it, else its level of government."""
        names = {
            self.text(org, SKOS.prefLabel, any_language=True)
            for org in self.graph.objects(node, M8G.hasCompetentAuthority)
        }
        names.discard("")
        levels = {_local_name(level) for level in self.graph.objects(node, IPDC.competentAuthorityLevel)}
        return ", ".join(sorted(names or levels))

    def keywords(self, node: Node) -> tuple[str, ...]:
        """Search terms are written per language, not per register: Dutch ones serve every Dutch draft."""
        primary = self.language.split("-", 1)[0]
        return tuple(
            sorted(
                {
                    str(term).strip()
                    for term in self.graph.objects(node, DCAT.keyword)
                    if isinstance(term, Literal)
                    and (not term.language or term.language.split("-", 1)[0].lower() == primary)
                }
            )
        )


def _language_of(value: Literal) -> str | None:
    return LANGUAGES.get(value.language.lower(), value.language) if value.language else None


def _lines(texts: list[str]) -> str:
    return "\n".join(text for text in texts if text)


def _order(graph: Graph, node: Node) -> float:
    """`shacl:order` as a number; IPDC writes integers as "1.0", which is not a valid xsd:integer."""
    value = graph.value(node, SH.order)
    try:
        return float(str(value)) if value is not None else float("inf")
    except ValueError:
        return float("inf")


def _local_name(iri: Node) -> str:
    return re.split(r"[/#]", str(iri).rstrip("/"))[-1]


def _is_true(value: Node | None) -> bool:
    return str(value).strip().lower() in ("true", "1")


def _timestamp(value: Node | None) -> datetime | None:
    if value is None:
        return None
    moment = value.toPython() if isinstance(value, Literal) else None
    if not isinstance(moment, datetime):
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

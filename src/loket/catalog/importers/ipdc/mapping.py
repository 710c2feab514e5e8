"""The IPDC vocabulary and code lists, and the mapping of a graph's products to item drafts.

A feed may hold several snapshots of one product; only the latest counts (`versions.newest`). An
archived latest snapshot yields nothing: the product is gone, and withdrawing it is the catalogue's
job on a full re-sync.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, RDF, RDFS, SH, SKOS
from rdflib.term import Node

from loket.catalog.importers.text import html_to_text
from loket.catalog.importers.versions import Snapshot, newest
from loket.catalog.schemas import Audience, ItemDraft, Problem, Section

SOURCE = "ipdc"

# Every vocabulary the package reads, the LDES feed's included, so `context` and `ldes` share them.
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
THEME_CODES = CODE_LISTS + "Thema/"

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

# The `thema` code list by local name, with its Dutch and English labels; a test checks them.
THEMES = {
    "BouwenWonen": ("Bouwen en Wonen", "Building and Living"),
    "BurgerOverheid": ("Burger en Overheid", "Citizen and Government"),
    "CultuurSportVrijeTijd": ("Cultuur, Sport en Vrije Tijd", "Culture, Sport and Leisure"),
    "EconomieWerk": ("Economie en Werk", "Economy and Work"),
    "MilieuEnergie": ("Milieu en Energie", "Environment and Energy"),
    "MobiliteitOpenbareWerken": ("Mobiliteit en Openbare Werken", "Mobility and Public Works"),
    "OnderwijsWetenschap": ("Onderwijs en Wetenschap", "Education and Science"),
    "WelzijnGezondheid": ("Welzijn en Gezondheid", "Well-being and Health"),
}

# IPDC writes Dutch in a formal and an informal register, generated or written by hand; we keep one
# language per register, whoever wrote it. Concepts may be in French and German too (loket's are).
LANGUAGES = {
    "nl": "nl",
    "nl-be-x-formal": "nl-BE-x-formal",
    "nl-be-x-generated-formal": "nl-BE-x-formal",
    "nl-be-x-informal": "nl-BE-x-informal",
    "nl-be-x-generated-informal": "nl-BE-x-informal",
    "en": "en",
    "fr": "fr",
    "de": "de",
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
    "fr": {
        "description": "Description",
        "conditions": "Conditions",
        "procedure": "Procédure",
        "cost": "Coûts",
        "financial": "Avantage financier",
        "exceptions": "Exceptions",
        "legal": "Réglementation",
        "contact": "Contact",
        "websites": "Plus d'informations",
        "email": "E-mail",
        "telephone": "Téléphone",
        "website": "Site web",
        "hours": "Heures d'ouverture",
        "address": "Adresse",
        "box": "boîte",
    },
    "de": {
        "description": "Beschreibung",
        "conditions": "Voraussetzungen",
        "procedure": "Verfahren",
        "cost": "Kosten",
        "financial": "Finanzieller Vorteil",
        "exceptions": "Ausnahmen",
        "legal": "Rechtsgrundlage",
        "contact": "Kontakt",
        "websites": "Weitere Informationen",
        "email": "E-Mail",
        "telephone": "Telefon",
        "website": "Website",
        "hours": "Öffnungszeiten",
        "address": "Adresse",
        "box": "Briefkasten",
    },
}


def drafts(graph: Graph, where: str) -> Iterator[ItemDraft | Problem]:
    """The drafts of every product's latest version in the graph; `where` names the document in problems."""
    yield from newest(snapshots(graph, where))


def snapshots(graph: Graph, where: str) -> Iterator[Snapshot]:
    """Every version of a product in the graph, an archived one without drafts."""
    records = set(graph.objects(None, TREE.member)) | {
        node for kind in PRODUCT_TYPES for node in graph.subjects(RDF.type, kind)
    }
    for node in records:
        archived = _is_true(graph.value(node, IPDC.isArchived))
        yield Snapshot(
            of=str(graph.value(node, DCTERMS.isVersionOf) or node),
            stamp=_version_stamp(graph, node),
            records=() if archived else tuple(_version_drafts(graph, node, where=f"{where} <{node}>")),
        )


def _version_stamp(graph: Graph, node: Node) -> tuple[datetime, str]:
    return (
        _timestamp(graph.value(node, PROV.generatedAtTime)) or datetime.min.replace(tzinfo=UTC),
        str(node),
    )


def _version_drafts(graph: Graph, node: Node, where: str) -> Iterator[ItemDraft | Problem]:
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
        "themes": tuple(
            sorted({_theme_name(graph, theme) for theme in graph.objects(node, M8G.thematicArea)})
        ),
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
        self.words = _WORDS.get(language.split("-", 1)[0], _WORDS["nl"])
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


def _theme_name(graph: Graph, theme: Node) -> str:
    """A theme of IPDC's code list by its code; a publisher's own theme (loket's) by its label."""
    if str(theme).startswith(THEME_CODES):
        return _local_name(theme)
    return min((str(label) for label in graph.objects(theme, SKOS.prefLabel)), default=_local_name(theme))


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

"""The catalogue as linked open data in the IPDC-LPDC vocabulary (CPSV-AP 3 based): each service at a
stable URI, every change in a Linked Data Event Stream (LDES), and a DCAT-AP record of the dataset.

A loket item is published as an IPDC concept snapshot (`ipdc:ConceptualPublicServiceSnapshot`), not as
an instance snapshot. The instance shape asks every record for what a loket item does not have: the
local government that made it (`pav:createdBy`, an LBLOD administrative unit), the place it serves
(`dcterms:spatial`) and a competent authority as an organisation IRI; and it allows Dutch and English
only. The concept shape asks for what every item has (name, description, product number, created and
modified, the version's object and time) and allows French and German too; and a concept is what a
catalogue publishes, where an instance is one municipality's offer of it.

What an item says goes where loket's own IPDC importer reads it back (`importers.ipdc.mapping`):
the summary is the description and the sections, headings and all, the further description (IPDC has
no sections of its own); audiences and the themes that match IPDC's code lists are their codes, other
themes and the authority are nodes named by their label; the licence is as loket keeps it.

Every document is built as compacted JSON-LD with the IPDC context's own terms, inline so nothing is
fetched, and Turtle is that JSON-LD read into a graph: the two are one graph by construction.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from html import escape

from rdflib import Graph
from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, RDFS, SKOS, XSD

from loket.catalog.importers.ipdc.context import BUILTIN_CONTEXTS
from loket.catalog.importers.ipdc.mapping import (
    AUDIENCES,
    CODE_LISTS,
    IPDC,
    LANGUAGES,
    LDES,
    M8G,
    SCHEMA,
    THEME_CODES,
    THEMES,
    TREE,
)
from loket.catalog.schemas import ItemVersion, Section
from loket.catalog.service import service_page_path
from loket.catalog.texts import (
    CATALOGUE_TITLE,
    DATASET_DESCRIPTION,
    DATASET_TITLE,
    FEED_TITLE,
    SERVICES_TITLE,
)
from loket.i18n import LANGUAGES as LOKET_LANGUAGES
from loket.i18n import message

SERVICES_PATH = "/id/diensten"
FEED_PATH = "/ldes/diensten"
CATALOGUE_PATH = "/id/catalogus"
PAGE_SIZE = 100  # members of the feed per page
JSON_LD = "application/ld+json"
TURTLE = "text/turtle"

_PREFIXES = {
    "dcat": str(DCAT),
    "dcterms": str(DCTERMS),
    "foaf": str(FOAF),
    "rdfs": str(RDFS),
    "skos": str(SKOS),
    "xsd": str(XSD),
}
_SERVICE_CONTEXT = [BUILTIN_CONTEXTS["ipdc-lpdc-im.jsonld"], _PREFIXES]
_FEED_CONTEXT = [BUILTIN_CONTEXTS["ipdc-lpdc-im.jsonld"], BUILTIN_CONTEXTS["ldes.jsonld"], _PREFIXES]
_AUDIENCE_CODES = {audience: code for code, audience in AUDIENCES.items()}
_SHAPES = "https://data.vlaanderen.be/doc/implementatiemodel/ipdc-lpdc/ontwerpstandaard/"
_LDES_SPECIFICATION = "https://w3id.org/ldes/specification"
_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
_SPDX = "http://spdx.org/licenses/"
_EU_LANGUAGES = {"nl": "NLD", "fr": "FRA", "en": "ENG", "de": "DEU"}
_EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"


def service_uri(base: str, item_id: str) -> str:
    return f"{base}{SERVICES_PATH}/{item_id}"


def feed_page_url(base: str, page: int) -> str:
    return f"{base}{FEED_PATH}" + (f"?page={page}" if page else "")


def service_document(version: ItemVersion, base: str) -> dict | None:
    """The current version of one service; None when it is in a language IPDC cannot carry."""
    snapshot = _snapshot(version, base)
    return {"@context": _SERVICE_CONTEXT, **snapshot} if snapshot else None


def feed_page(changes: list[ItemVersion], base: str, page: int, next_from: datetime | None) -> dict:
    """One page of the change feed; `next_from`, the time of the first change on the next page, if any."""
    view = {"@id": feed_page_url(base, page), "@type": "Node"}
    if next_from:
        view["relation"] = [
            {
                "@type": "GreaterThanOrEqualToRelation",
                "node": feed_page_url(base, page + 1),
                "path": str(PROV.generatedAtTime),
                "value": next_from.isoformat(),
            }
        ]
    return {
        "@context": _FEED_CONTEXT,
        "@id": f"{base}{FEED_PATH}",
        "@type": "EventStream",
        "versionOfPath": str(DCTERMS.isVersionOf),
        "timestampPath": str(PROV.generatedAtTime),
        "view": view,
        "member": [snapshot for change in changes if (snapshot := _snapshot(change, base))],
    }


def catalogue_record(base: str, languages: set[str], licences: set[str], modified: datetime | None) -> dict:
    """The DCAT-AP catalogue of the one dataset loket publishes, with its two ways in."""
    record = f"{base}{CATALOGUE_PATH}"
    publisher = {"@id": f"{base}/", "@type": "foaf:Agent", "foaf:name": "loket"}
    licence_documents = [_licence_document(licence) for licence in sorted(licences)]

    def distribution(anchor: str, title: str, conforms_to: str) -> dict:
        return _without_empty(
            {
                "@id": f"{record}#{anchor}",
                "@type": "dcat:Distribution",
                "dcterms:title": _texts(title),
                "dcat:accessURL": {"@id": feed_page_url(base, 0)},
                "dcat:mediaType": {"@id": _MEDIA_TYPES + JSON_LD},
                "dcterms:conformsTo": {"@id": conforms_to},
                "dcterms:license": licence_documents,
            }
        )

    dataset = {
        "@id": f"{record}#dataset",
        "@type": "dcat:Dataset",
        "dcterms:title": _texts(DATASET_TITLE),
        "dcterms:description": _texts(DATASET_DESCRIPTION),
        "dcterms:publisher": {"@id": publisher["@id"]},
        "dcterms:license": licence_documents,
        "dcterms:language": [{"@id": _EU_LANGUAGE + code} for code in _eu_languages(languages)],
        "dcterms:modified": _moment(modified),
        "dcterms:conformsTo": {"@id": _SHAPES},
        "dcat:distribution": [
            distribution("ldes", FEED_TITLE, _LDES_SPECIFICATION),
            distribution("diensten", SERVICES_TITLE, _SHAPES),
        ],
    }
    return _without_empty(
        {
            "@context": _PREFIXES,
            "@id": record,
            "@type": "dcat:Catalog",
            "dcterms:title": _texts(CATALOGUE_TITLE),
            "dcterms:description": _texts(DATASET_DESCRIPTION),
            "dcterms:publisher": publisher,
            "foaf:homepage": {"@id": f"{base}/"},
            "dcterms:modified": _moment(modified),
            "dcat:dataset": _without_empty(dataset),
        }
    )


def graph_of(document: dict) -> Graph:
    graph = Graph().parse(data=document, format="json-ld")
    for prefix, namespace in (
        ("ipdc", IPDC),
        ("m8g", M8G),
        ("schema", SCHEMA),
        ("tree", TREE),
        ("ldes", LDES),
    ):
        graph.bind(prefix, namespace, replace=True)
    return graph


def serialise(document: dict, media_type: str) -> bytes:
    if media_type == TURTLE:
        return graph_of(document).serialize(format="turtle", encoding="utf-8")
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def ipdc_language(language: str) -> str | None:
    """The tag IPDC writes a loket language as (a Dutch register kept, a region dropped), or None."""
    tag = language.lower()
    return LANGUAGES.get(tag) or LANGUAGES.get(tag.split("-", 1)[0])


def theme_code(theme: str) -> str | None:
    """The code of IPDC's `thema` list a theme names, its words in any order and case; or None."""
    return _THEMES_BY_WORDS.get(_words(theme))


def _snapshot(version: ItemVersion, base: str) -> dict | None:
    draft = version.draft
    language = ipdc_language(draft.language)
    if language is None:
        return None
    uri = service_uri(base, version.item_id)
    page = draft.url or service_page_path(version.item_id)
    return _without_empty(
        {
            "@id": f"{uri}/versies/{version.number}" + ("/ingetrokken" if version.withdrawn else ""),
            "@type": "ConceptSnapshot",
            "isVersionOf": uri,
            "generatedAtTime": version.recorded_at.isoformat(),
            "productnummer": version.item_id,
            "creatie": (draft.created or version.first_seen_at).isoformat(),
            "laatstGewijzigd": (draft.modified or version.recorded_at).isoformat(),
            "eindeDienstVerlening": draft.valid_until.isoformat() if draft.valid_until else None,
            "gearchiveerd": True if version.withdrawn else None,
            "naam": {language: draft.title},
            "beschrijving": {language: _html(draft.summary or draft.title)},
            "verdereBeschrijving": {language: _sections_html(draft.sections)} if draft.sections else None,
            "zoektermen": {language: list(draft.keywords)} if draft.keywords else None,
            "doelgroepen": [_code(f"{CODE_LISTS}Doelgroep/{_AUDIENCE_CODES[a]}") for a in draft.audiences],
            "themas": [_theme(theme) for theme in draft.themes],
            "bevoegdeOverheden": _organisations(draft.authority),
            "dcterms:license": _licence(draft.licence),
            "foaf:page": {"@id": page if "://" in page else base + page},
        }
    )


def _html(text: str) -> str:
    """Plain text as HTML paragraphs, one a line, as IPDC's texts are HTML."""
    return "".join(
        f"<p>{escape(line.strip(), quote=False)}</p>" for line in text.splitlines() if line.strip()
    )


def _sections_html(sections: tuple[Section, ...]) -> str:
    return "".join(
        f"<h2>{escape(section.heading, quote=False)}</h2>{_html(section.text)}" for section in sections
    )


def _code(iri: str) -> dict:
    """A code-list concept, typed so the shapes' `sh:class skos:Concept` holds in the document itself."""
    return {"@id": iri, "@type": "skos:Concept"}


def _theme(theme: str) -> dict:
    code = theme_code(theme)
    return _code(THEME_CODES + code) if code else {"@type": "skos:Concept", "skos:prefLabel": theme}


def _organisations(authority: str) -> list[dict]:
    """The authority as IPDC's competent organisation, named: loket knows its name, not its IRI."""
    return [{"@type": "PubliekeOrganisatie", "skos:prefLabel": authority}] if authority else []


def _licence(licence: str) -> str | dict | None:
    if not licence:
        return None
    return {"@id": licence} if licence.startswith(("http://", "https://")) else licence


def _licence_document(licence: str) -> dict:
    """The licence as DCAT-AP wants it, a document: its URL, the SPDX licence of an identifier
    (CC-BY-4.0), else a document with the name as label."""
    if licence.startswith(("http://", "https://")):
        return {"@id": licence}
    if len(licence.split()) == 1:
        return {"@id": _SPDX + licence}
    return {"@type": "dcterms:LicenseDocument", "rdfs:label": licence}


def _eu_languages(languages: set[str]) -> list[str]:
    primaries = {language.split("-", 1)[0].lower() for language in languages}
    return sorted(_EU_LANGUAGES[primary] for primary in primaries & set(_EU_LANGUAGES))


def _texts(text: str) -> list[dict]:
    return [{"@value": message(text, language), "@language": language} for language in LOKET_LANGUAGES]


def _moment(moment: datetime | None) -> dict | None:
    return {"@value": moment.isoformat(), "@type": "xsd:dateTime"} if moment else None


def _without_empty(node: dict) -> dict:
    return {key: value for key, value in node.items() if value not in (None, [], "")}


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", text.casefold()))


_THEMES_BY_WORDS = {_words(name): code for code, labels in THEMES.items() for name in (code, *labels)}

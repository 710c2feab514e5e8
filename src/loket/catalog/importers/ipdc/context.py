"""JSON-LD contexts and parsing: every shape of an IPDC document becomes one RDF graph.

A record comes as compacted JSON-LD (the LDES feed), expanded JSON-LD or N-Triples/Turtle. Every shape
is first turned into one RDF graph and read by full IRIs, so the three shapes share one mapping and give
the same drafts. JSON-LD contexts are never fetched: they are looked up by file name in
`LOKET_IPDC_CONTEXT_DIR`, else in the small copy below, which holds only the terms loket reads (and
writes: `catalog.linked_data` publishes with it).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import DCAT, DCTERMS, PROV, RDFS, SH, XSD

from loket.catalog.importers.document import Document
from loket.catalog.importers.ipdc.mapping import (
    ADRES,
    BELGIF,
    CODE_LISTS,
    CPSV,
    ELI,
    IPDC,
    LDES,
    LOCN,
    M8G,
    SCHEMA,
    TREE,
)
from loket.config import Settings

CONTEXT_DIR_ENV = "LOKET_IPDC_CONTEXT_DIR"  # the setting `ipdc_context_dir`


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
            {
                "member": {"@id": str(TREE.member), "@container": "@set"},
                "versionOfPath": _ref(LDES.versionOfPath),
                "timestampPath": _ref(LDES.timestampPath),
                "view": str(TREE.view),
            },
        ),
        "Node": _class(TREE.Node, {"relation": {"@id": str(TREE.relation), "@container": "@set"}}),
        **{
            name: _class(
                TREE[name],
                {"node": _ref(TREE.node), "path": _ref(TREE.path), "value": _typed(TREE.value, XSD.dateTime)},
            )
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


def graph_of(doc: Document) -> Graph:
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

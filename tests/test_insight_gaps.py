"""Content gaps (issue 22, item 2): unanswered and voted-down questions clustered by topic with the
bundled embedder, on a fixed clock. Example questions only from k distinct askers up (k-anonymity),
on the page and in every output; questions refused as abuse or for personal data never reach a
cluster; a content owner's "handled" survives a new run and new questions reopen it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from loket.assistant.schemas import Answer, Status
from loket.config import Settings
from loket.errors import NotFound
from loket.i18n import plain
from loket.identity.schemas import Role
from loket.insight.gaps import GapService, Run
from loket.insight.models import GapRow, GapVectorRow
from tests.test_insight import ABUSE, PERSONAL, database_dump
from tests.web_support import OWN_PAGE, csrf_token

# Tuesday 8 December 2026, 14:30 in Brussels: when the gaps are computed.
NOW = datetime(2026, 12, 8, 13, 30, tzinfo=UTC)
# Two topics the demo catalogue does not cover, each asked in several ways.
FISHING = [
    "Hoe vraag ik een visverlof aan?",
    "Waar koop ik een vergunning om te vissen?",
    "Heb ik een visvergunning nodig om te hengelen in de Schelde?",
    "Wat kost een visverlof voor een jaar?",
    "Mag mijn zoon van 12 vissen zonder verlof?",
    "visverlof kopen waar",
    "Ik wil gaan vissen aan het kanaal, welk verlof heb ik nodig?",
]
SOLAR = [
    "Krijg ik een premie voor zonnepanelen op mijn dak?",
    "Is er nog een subsidie voor zonnepanelen in 2026?",
    "Hoeveel premie krijg ik voor een thuisbatterij bij mijn zonnepanelen?",
    "Welke steun bestaat er voor het plaatsen van zonnepanelen?",
    "premie zonnepanelen aanvragen",
    "Bestaat de terugdraaiende teller nog voor mijn zonnepanelen?",
]
DOGS = [
    "Moet ik mijn hond laten registreren bij de gemeente?",
    "Hoe registreer ik mijn nieuwe puppy?",
    "Waar moet ik mijn hond inschrijven?",
    "hond registreren gemeente",
]
K = 5  # the default LOKET_INSIGHT_MIN_ASKERS
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def frozen(clock):
    clock.frozen = NOW
    return clock


def unanswered(services, clock, question: str, at: datetime, person: str | None = None) -> str:
    """Stores a question loket had no answer to, asked at `at` in a conversation of its own, by
    `person` if logged in (else each question is another asker's); its message id."""
    clock.frozen = at
    answer = Answer(str(uuid.uuid4()), str(uuid.uuid4()), Status.UNANSWERABLE, "Dat weet ik niet.", "nl", [])
    services.assistant.conversations.add(answer, question, question, [], person)
    clock.frozen = NOW
    return answer.message_id


def clusters(services) -> list[set[str]]:
    """The latest run's clusters, as the message ids of their questions."""
    with services.db.session() as session:
        return [{message_id for message_id, _ in row.asked} for row in session.scalars(select(GapRow))]


def test_paraphrases_cluster_together_and_apart_from_another_topic(services, frozen):
    assert services.gaps.latest() is None  # before the first run
    assert services.gaps.compute() == Run(questions=0, clusters=0, kept=0, embedded=0)
    assert services.gaps.latest().open == []
    services.catalog.load_demo_if_empty()
    services.search.sync()
    fishing = [unanswered(services, frozen, q, NOW - timedelta(hours=n + 1)) for n, q in enumerate(FISHING)]
    solar = [unanswered(services, frozen, q, NOW - timedelta(hours=n + 1)) for n, q in enumerate(SOLAR)]
    dogs = [unanswered(services, frozen, q, NOW - timedelta(days=n + 1)) for n, q in enumerate(DOGS)]
    unanswered(services, frozen, "Hoe vraag ik een visverlof aan?", NOW - timedelta(days=31))  # too old

    run = services.gaps.compute()
    assert (run.questions, run.kept, run.embedded) == (17, 3, 17)
    found = clusters(services)
    for topic in (fishing, solar, dogs):
        assert set(topic) in found, "each topic is one cluster, and only that topic"
    gaps = services.gaps.latest()
    assert [(gap.number, gap.size, gap.askers) for gap in gaps.open] == [(1, 7, 7), (2, 6, 6), (3, 4, 4)]
    demo = {item.id for item in services.catalog.active_items()}
    assert all(gap.items and {item.id for item in gap.items} <= demo for gap in gaps.open)
    assert gaps.questions == 17 and gaps.until == NOW and gaps.since == NOW - timedelta(days=30)

    frozen.frozen = NOW + timedelta(hours=1)  # the next run embeds nothing again: the vectors are kept
    assert services.gaps.compute().embedded == 0
    with services.db.session() as session:
        assert len(session.scalars(select(GapVectorRow)).all()) == 17


def test_examples_only_from_k_distinct_askers_up(services, frozen):
    # Solar: k - 1 persons logged in, each asking every question (in conversations of their own).
    small = [
        unanswered(services, frozen, question, NOW - timedelta(minutes=n + 1), f"person-{person}")
        for person in range(K - 1)
        for n, question in enumerate(SOLAR)
    ]
    # Fishing: k askers, one question each.
    for n, question in enumerate(FISHING[:K]):
        unanswered(services, frozen, question, NOW - timedelta(hours=n + 1))

    services.gaps.compute()
    gaps = services.gaps.latest()
    solar = next(gap for gap in gaps.open if gap.size == len(small))
    fishing = next(gap for gap in gaps.open if gap.size == K)
    assert (solar.askers, fishing.askers) == (K - 1, K)
    assert solar.examples == []
    assert fishing.examples and {text for text, _ in fishing.examples} <= set(FISHING)
    assert all(language == "nl" for _, language in fishing.examples)

    fewer = GapService(
        services.db, services.assistant.conversations, services.search, services.catalog, K - 1
    )
    assert next(gap for gap in fewer.latest().open if gap.size == len(small)).examples


def test_the_threshold_is_a_setting(monkeypatch):
    assert Settings(_env_file=None).insight_min_askers == K
    monkeypatch.setenv("LOKET_INSIGHT_MIN_ASKERS", "8")
    assert Settings(_env_file=None).insight_min_askers == 8
    monkeypatch.setenv("LOKET_INSIGHT_MIN_ASKERS", "1")  # one asker is no anonymity at all
    with pytest.raises(ValueError):
        Settings(_env_file=None)


def test_refused_questions_never_reach_a_gap(services, frozen):
    refused = []
    for n in range(K):
        for question in (ABUSE, PERSONAL):
            frozen.frozen = NOW - timedelta(minutes=n + 1)
            answer = services.assistant.ask(question, "nl")
            assert answer.status in ("refused_abuse", "refused_personal_data")
            services.assistant.feedback(answer.message_id, "down", "Waarom geen antwoord?")
            refused.append(answer.message_id)
    for n, question in enumerate(FISHING[:K]):
        unanswered(services, frozen, question, NOW - timedelta(hours=n + 1))
    frozen.frozen = NOW

    run = services.gaps.compute()
    assert run.questions == K
    assert not set(refused) & set().union(*clusters(services))
    with services.db.session() as session:
        assert not set(refused) & set(session.scalars(select(GapVectorRow.message_id)))
    dump = database_dump(services)
    for word in ("zeppelinmarmot", "kangoeroeparaplu", "vorige instructies", "033.28", "85073003328"):
        assert word not in dump, word


def test_a_handled_gap_stays_handled_until_someone_asks_again(services, frozen):
    for n, question in enumerate(FISHING[:K]):
        unanswered(services, frozen, question, NOW - timedelta(hours=n + 1))
    for n, question in enumerate(SOLAR[:K]):
        unanswered(services, frozen, question, NOW - timedelta(hours=n + 1))
    services.gaps.compute()
    fishing = next(gap for gap in services.gaps.latest().open if "visverlof" in str(gap.examples))
    services.gaps.mark_handled(fishing.id, "person-lotte")

    marked = services.gaps.latest()
    assert [gap.id for gap in marked.handled] == [fishing.id]
    assert marked.handled[0].handled_at == NOW and marked.handled[0].new_since_handled == 0
    assert len(marked.open) == 1 and "zonnepanelen" in str(marked.open[0].examples)

    frozen.frozen = NOW + timedelta(hours=1)  # a new run: new clusters, the same topics
    services.gaps.compute()
    again = services.gaps.latest()
    assert len(again.handled) == 1 and again.handled[0].id != fishing.id
    assert again.handled[0].size == K and len(again.open) == 1
    shown_before = marked.open[0].id  # solar, on a page shown before this run: still marks
    services.gaps.mark_handled(shown_before, "person-lotte")
    assert len(services.gaps.latest().handled) == 2

    later = NOW + timedelta(hours=1, minutes=30)
    unanswered(services, frozen, "Waar haal ik een visverlof voor de vijver in het park?", later)
    frozen.frozen = NOW + timedelta(hours=2)
    services.gaps.compute()
    reopened = services.gaps.latest()
    assert [gap.size for gap in reopened.handled] == [K]  # solar: nothing new
    (fishing,) = reopened.open
    assert (fishing.size, fishing.new_since_handled, fishing.handled_at) == (K + 1, 1, NOW)

    for gone in (shown_before, "no-such-gap"):  # two runs ago, or never
        with pytest.raises(NotFound):
            services.gaps.mark_handled(gone, "person-lotte")


def login(client, person: str) -> None:
    client.cookies.clear()
    assert client.post("/auth/demo-login", json={"person": person}).status_code == 200


@pytest.fixture
def gaps_app(demo_app, frozen):
    """The demo, with a fishing topic of k askers and a solar topic of k - 1 askers, computed."""
    services = demo_app.app.state.services
    for n, question in enumerate(FISHING[:K]):
        unanswered(services, frozen, question, NOW - timedelta(hours=n + 1))
    for n, question in enumerate(SOLAR[: K - 1]):
        unanswered(services, frozen, question, NOW - timedelta(hours=n + 1))
    services.gaps.compute()
    return demo_app


@sqlite_only
def test_the_page_shows_examples_from_k_askers_only(gaps_app):
    client = gaps_app
    login(client, "lotte-maes")
    for language in ("nl", "fr"):
        page = unescape(client.get(f"/beheer/hiaten?lang={language}").text)
        assert plain(language, "Content gaps") in page
        assert sum(question in page for question in FISHING[:K]) == 3  # the three most typical
        assert not any(question in page for question in SOLAR)
        assert plain(language, "Mark topic %(number)s handled", number=1) in page
        assert plain(language, "Mark topic %(number)s handled", number=2) in page
    dashboard = client.get("/beheer?lang=nl").text
    assert 'href="/beheer/hiaten?lang=nl"' in dashboard


@sqlite_only
def test_who_may_see_and_mark(gaps_app):
    client = gaps_app
    services = client.app.state.services
    gap = services.gaps.latest().open[0]
    mark = f"/beheer/hiaten/{gap.id}/afgehandeld"

    response = client.get("/beheer/hiaten?lang=fr")  # anonymous: to the login page, and back after
    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).path == "/aanmelden"
    assert "return_to=%2Fbeheer%2Fhiaten" in response.headers["location"]
    assert client.post(mark, headers=OWN_PAGE).status_code == 403  # no form, no token

    login(client, "jan-janssens")  # a citizen
    response = client.get("/beheer/hiaten?lang=nl")
    assert response.status_code == 403
    assert plain("nl", "Only operators and content owners can see the content gaps.") in unescape(
        response.text
    )
    token = csrf_token(client.get("/mijn-zaken").text)
    refused = client.post(mark, data={"csrf_token": token}, headers=OWN_PAGE)
    assert refused.status_code == 403
    assert plain("nl", "Only content owners can mark a content gap handled.") in unescape(refused.text)

    services.identity.roles.grant("78631200367", Role.OPERATOR)  # an operator sees, without the button
    login(client, "jan-janssens")
    page = client.get("/beheer/hiaten?lang=nl")
    assert page.status_code == 200 and 'action="/beheer/hiaten/' not in page.text
    assert client.post(mark, data={"csrf_token": csrf_token(page.text)}, headers=OWN_PAGE).status_code == 403

    login(client, "lotte-maes")  # a content owner
    page = client.get("/beheer/hiaten?lang=nl")
    assert client.post(mark, data={}, headers=OWN_PAGE).status_code == 403  # the token missing
    assert services.gaps.latest().handled == []
    done = client.post(mark, data={"csrf_token": csrf_token(page.text)}, headers=OWN_PAGE)
    assert done.status_code == 303 and done.headers["location"] == "/beheer/hiaten?marked=1&lang=nl"
    assert [handled.id for handled in services.gaps.latest().handled] == [gap.id]
    page = unescape(client.get(done.headers["location"]).text)
    assert plain("nl", "Handled topics") in page
    assert plain("nl", "Mark topic %(number)s handled", number=gap.number) not in page


@sqlite_only
def test_the_command_computes_and_keeps_to_k(gaps_app, keep_structlog_configuration, monkeypatch):
    from loket import cli

    services = gaps_app.app.state.services
    monkeypatch.setattr(cli, "_services", lambda **_: services)
    result = CliRunner().invoke(cli.app, ["insight", "gaps", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert f"{K + K - 1} questions of the last 30 days" in result.output
    assert sum(question in result.output for question in FISHING[:K]) == 3
    assert not any(question in result.output for question in SOLAR)

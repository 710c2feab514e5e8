"""Answer review (issue 22): content owners mark a sample of answers right or wrong, sentence by
sentence and source by source; the about page's accuracy comes from those verdicts alone, so it
outlives the conversations retention removes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.numbers import format_percent

from loket.assistant.conversations import Asked
from loket.assistant.schemas import Answer, Citation, Status
from loket.errors import NotFound
from loket.i18n import message, plain
from loket.identity.schemas import Role
from loket.insight.review import REASON_LENGTH, Accuracy, Refused
from loket.insight.texts import (
    CITATION_VERDICTS,
    NOTHING_TO_REVIEW,
    REASON_NEEDED,
    REASON_TOO_LONG,
    SENTENCE_VERDICTS,
)
from tests.web_support import OWN_PAGE, csrf_token

NOW = datetime(2026, 12, 8, 13, 30, tzinfo=UTC)
ANSWER = "U vraagt een paspoort aan bij uw gemeente. Breng een pasfoto mee. Het paspoort is 7 jaar geldig."
CITATIONS = [
    Citation("https://example.org/paspoort", "Paspoort aanvragen", "Bij uw gemeente."),
    Citation("https://example.org/pasfoto", "Pasfoto", "Een recente pasfoto."),
]
LOTTE, EVA = "person-lotte", "person-eva"  # two content owners
JAN = "78631200367"  # a citizen's national number (demo_persons.json)
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def answered(services, clock, at: datetime, asked: Asked | None = None, status=Status.ANSWERED) -> str:
    """Stores an answer of three sentences and two sources, given at `at`; its id."""
    clock.frozen = at
    answer = Answer(str(uuid.uuid4()), str(uuid.uuid4()), status, ANSWER, "nl", list(CITATIONS))
    services.assistant.conversations.add(
        answer, "Paspoort?", "Hoe vraag ik een paspoort aan?", [], None, asked
    )
    clock.frozen = NOW
    return answer.message_id


@pytest.fixture
def frozen(clock):
    clock.frozen = NOW
    return clock


def test_the_queue_leaves_out_reviewed_staff_and_test_answers(services, frozen):
    public = [answered(services, frozen, NOW - timedelta(days=days)) for days in (1, 2, 29)]
    answered(services, frozen, NOW - timedelta(hours=1), Asked(staff=True))
    answered(services, frozen, NOW - timedelta(hours=1), Asked(test=True))
    answered(services, frozen, NOW - timedelta(hours=1), status=Status.UNANSWERABLE)
    answered(services, frozen, NOW - timedelta(days=31))  # before the 30 days
    reviews = services.reviews
    assert {answer.id for answer in reviews.queue()} == set(public)

    reviews.review(public[0], LOTTE, [True, True, True], [True, True], "", "nl")
    waiting = reviews.queue()
    assert {answer.id for answer in waiting} == set(public[1:])  # reviewed by anyone: not offered again
    assert waiting[0].sentences == [
        "U vraagt een paspoort aan bij uw gemeente.",
        "Breng een pasfoto mee.",
        "Het paspoort is 7 jaar geldig.",
    ]
    assert waiting[0].question == "Paspoort?" and waiting[0].citations[0]["title"] == "Paspoort aanvragen"
    assert len(reviews.queue(size=1)) == 1


def test_accuracy_counts_every_review_of_the_period_exactly(services, frozen):
    first = answered(services, frozen, NOW - timedelta(days=1))
    second = answered(services, frozen, NOW - timedelta(days=20))
    reviews = services.reviews
    reviews.review(first, LOTTE, [True, True, False], [True, True], "De geldigheid is 10 jaar.", "nl")
    reviews.review(first, EVA, [True, True, True], [False, True], "Pasfoto is de verkeerde pagina.", "nl")
    frozen.frozen = NOW - timedelta(days=10)  # before the period asked for below
    reviews.review(second, LOTTE, [False, False, False], [False, False], "Alles fout.", "nl")
    frozen.frozen = NOW

    assert reviews.accuracy(NOW - timedelta(days=7), NOW + timedelta(seconds=1)) == Accuracy(
        reviews=2, sentences=6, sentences_right=5 / 6, citations=4, citations_right=3 / 4
    )
    whole = reviews.accuracy(NOW - timedelta(days=30), NOW + timedelta(seconds=1))
    assert (whole.reviews, whole.sentences_right, whole.citations_right) == (3, 5 / 9, 3 / 6)
    assert reviews.accuracy(NOW - timedelta(days=90), NOW - timedelta(days=60)) == Accuracy(
        0, 0, None, 0, None
    )


def test_a_second_review_by_the_same_reviewer_replaces_the_first(services, frozen):
    answer = answered(services, frozen, NOW - timedelta(days=1))
    reviews = services.reviews
    reviews.review(answer, LOTTE, [True, True, False], [True, True], "  Niet 7 jaar.  ", "nl")
    earlier = reviews.reviewable(answer, LOTTE, "nl").earlier
    assert earlier and (earlier.sentences, earlier.reason) == ([True, True, False], "Niet 7 jaar.")
    assert reviews.reviewable(answer, EVA, "nl").earlier is None

    frozen.advance(60)
    reviews.review(answer, LOTTE, [True, True, True], [True, True], "", "nl")
    later = reviews.accuracy(NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert later == Accuracy(reviews=1, sentences=3, sentences_right=1.0, citations=2, citations_right=1.0)
    assert reviews.reviewable(answer, LOTTE, "nl").earlier.reviewed_at == NOW + timedelta(seconds=60)


def test_bad_verdicts_and_a_missing_reason_are_refused_and_change_nothing(services, frozen):
    answer = answered(services, frozen, NOW - timedelta(days=1))
    refusal = answered(services, frozen, NOW - timedelta(days=1), status=Status.REFUSED_ABUSE)
    reviews = services.reviews
    too_long = "x" * (REASON_LENGTH + 1)
    attempts = [  # sentences, citations, reason, in which language, the part at fault, what it says
        ([True, True], [True, True], "", "fr", "sentences", message(SENTENCE_VERDICTS, "fr", count="3")),
        ([True, True, True], [True], "", "nl", "citations", message(CITATION_VERDICTS, "nl", count="2")),
        ([True, False, True], [True, True], "   ", "de", "reason", message(REASON_NEEDED, "de")),
        ([True, True, True], [True, False], "", "de", "reason", message(REASON_NEEDED, "de")),
        (
            [True, False, True],
            [True, True],
            too_long,
            "fr",
            "reason",
            message(REASON_TOO_LONG, "fr", count="1000"),
        ),
    ]
    for sentences, citations, reason, language, part, text in attempts:
        with pytest.raises(Refused) as refused:
            reviews.review(answer, LOTTE, sentences, citations, reason, language)
        assert (refused.value.part, refused.value.message, refused.value.status_code) == (part, text, 400)
    for missing in (refusal, "no-such-answer"):
        with pytest.raises(NotFound) as not_found:
            reviews.review(missing, LOTTE, [True, True, True], [True, True], "", "nl")
        assert not_found.value.message == message(NOTHING_TO_REVIEW, "nl")

    assert reviews.accuracy(NOW - timedelta(days=30), NOW + timedelta(days=1)).reviews == 0
    assert [waiting.id for waiting in reviews.queue()] == [answer]


def test_a_review_still_counts_when_retention_removed_the_conversation(services, frozen):
    answer = answered(services, frozen, NOW - timedelta(days=1))
    services.reviews.review(answer, LOTTE, [True, False, True], [True, True], "Niet 7 jaar.", "nl")
    frozen.frozen = NOW + timedelta(days=40)
    assert services.assistant.remove_expired(timedelta(days=30), timedelta(days=30))["messages"] == 1

    with pytest.raises(NotFound):
        services.reviews.reviewable(answer, LOTTE, "nl")
    assert services.reviews.accuracy(NOW, NOW + timedelta(days=41)) == Accuracy(
        reviews=1, sentences=3, sentences_right=2 / 3, citations=2, citations_right=1.0
    )


# The pages: who may review, the form, saving, and a form with problems.


def login(client, person: str) -> None:
    client.cookies.clear()
    assert client.post("/auth/demo-login", json={"person": person}).status_code == 200


@pytest.fixture
def asked(demo_app):
    """Two answered questions of a citizen on the demo catalogue; the browser then anonymous."""
    client = demo_app
    client.app.state.services.search.sync()
    ids = []
    for question in (
        "Mijn identiteitskaart is gestolen. Wat moet ik doen?",
        "Hoe vraag ik een parkeerkaart aan?",
    ):
        client.cookies.clear()
        answer = client.post("/api/v1/ask", json={"question": question}).json()
        assert answer["status"] == "answered", answer
        ids.append(answer["message_id"])
    client.cookies.clear()
    return client, ids


@sqlite_only
def test_anonymous_goes_to_the_login_page_citizens_and_operators_are_refused(asked):
    client, (first, _) = asked
    for path in ("/beheer/beoordelen", f"/beheer/beoordelen/{first}"):
        response = client.get(f"{path}?lang=fr")
        assert response.status_code == 303
        location = urlsplit(response.headers["location"])
        assert location.path == "/aanmelden" and parse_qs(location.query)["return_to"] == [path]

    login(client, "an-peeters")
    for path in ("/beheer/beoordelen", f"/beheer/beoordelen/{first}"):
        response = client.get(f"{path}?lang=fr")
        assert response.status_code == 403 and response.headers["content-type"].startswith("text/html")
        assert plain("fr", "Only content owners can review answers.") in unescape(response.text)

    roles = client.app.state.services.identity.roles
    roles.grant(JAN, Role.OPERATOR)  # an operator without the content owner's role
    login(client, "jan-janssens")
    assert client.get("/beheer").status_code == 200
    assert 'href="/beheer/beoordelen' not in client.get("/beheer").text
    assert client.get("/beheer/beoordelen").status_code == 403


@sqlite_only
def test_a_content_owner_reviews_an_answer_and_goes_on_to_the_next(asked):
    client, (first, second) = asked
    login(client, "lotte-maes")
    assert 'href="/beheer/beoordelen?lang=nl"' in client.get("/beheer?lang=nl").text
    waiting = client.get("/beheer/beoordelen?lang=nl")
    assert waiting.status_code == 200
    assert f'href="/beheer/beoordelen/{first}?lang=nl"' in waiting.text
    assert f'href="/beheer/beoordelen/{second}?lang=nl"' in waiting.text

    services = client.app.state.services
    answer = services.reviews.reviewable(first, "anyone", "nl")
    page = client.get(f"/beheer/beoordelen/{first}?lang=nl")
    assert page.status_code == 200
    html = unescape(page.text)
    assert "Mijn identiteitskaart is gestolen. Wat moet ik doen?" in html
    for number, sentence in enumerate(answer.sentences):
        assert sentence in html
        assert f'name="sentence-{number}" value="right"' in html and f'id="sentence-{number}-wrong"' in html
    assert html.count('type="radio"') == 2 * (len(answer.sentences) + len(answer.citations))
    assert html.count("<fieldset") == len(answer.sentences) + len(answer.citations)
    assert '<textarea id="reason" name="reason"' in html

    verdicts = {f"sentence-{i}": "right" for i in range(len(answer.sentences))}
    verdicts |= {f"citation-{i}": "right" for i in range(len(answer.citations))}
    verdicts["sentence-0"] = "wrong"
    form = {"csrf_token": csrf_token(page.text), "reason": "Eerst aangifte bij de politie.", **verdicts}
    saved = client.post(f"/beheer/beoordelen/{first}?lang=nl", data=form, headers=OWN_PAGE)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/beheer/beoordelen/{second}?saved=1&lang=nl"
    following = client.get(saved.headers["location"])
    assert plain("nl", "Your review has been saved.") in unescape(following.text)

    found = services.reviews.accuracy(
        datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)
    )
    sentences, citations = len(answer.sentences), len(answer.citations)
    assert (found.reviews, found.sentences, found.citations) == (1, sentences, citations)
    assert found.sentences_right == (sentences - 1) / sentences and found.citations_right == 1.0
    # Back on the same answer: the earlier verdicts are chosen, and saving again replaces them.
    again = unescape(client.get(f"/beheer/beoordelen/{first}?lang=nl").text)
    assert 'id="sentence-0-wrong" name="sentence-0" value="wrong" checked' in again
    assert "Eerst aangifte bij de politie.</textarea>" in again
    listed = unescape(client.get("/beheer/beoordelen?lang=nl").text)
    assert f'href="/beheer/beoordelen/{first}' not in listed
    share = format_percent((sentences - 1) / sentences, "#,##0.#%", locale="nl")
    assert plain("nl", "%(share)s of %(count)s sentences right", share=share, count=sentences) in listed


@sqlite_only
def test_a_form_without_its_csrf_token_is_refused_and_stores_nothing(asked):
    client, (first, _) = asked
    login(client, "lotte-maes")
    client.get(f"/beheer/beoordelen/{first}")
    refused = client.post(f"/beheer/beoordelen/{first}", data={"sentence-0": "right"}, headers=OWN_PAGE)
    assert refused.status_code == 403
    everything = client.app.state.services.reviews.accuracy(
        datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    assert everything.reviews == 0


@sqlite_only
def test_a_form_with_problems_comes_back_with_each_linked_to_its_field(asked):
    client, (first, _) = asked
    login(client, "lotte-maes")
    answer = client.app.state.services.reviews.reviewable(first, "anyone", "fr")
    page = client.get(f"/beheer/beoordelen/{first}?lang=fr")
    # The first sentence marked wrong, no reason, and the second sentence not marked at all.
    form = {"csrf_token": csrf_token(page.text), "sentence-0": "wrong", "reason": ""}
    form |= {f"citation-{i}": "right" for i in range(len(answer.citations))}
    response = client.post(f"/beheer/beoordelen/{first}?lang=fr", data=form, headers=OWN_PAGE)
    assert response.status_code == 422
    html = unescape(response.text)
    assert f"<title>{plain('fr', 'Error:')}" in html
    assert len(answer.sentences) > 1
    missing = plain("fr", "Mark sentence %(number)s as right or wrong.", number=2)
    assert f'<a href="#sentence-1-right">{missing}</a>' in html
    assert f'<p class="error" id="sentence-1-error">{missing}</p>' in html
    assert '<fieldset class="verdict" aria-describedby="sentence-1-error">' in html
    assert 'id="sentence-0-wrong" name="sentence-0" value="wrong" checked' in html  # kept as chosen

    form |= {f"sentence-{i}": "right" for i in range(1, len(answer.sentences))}
    response = client.post(f"/beheer/beoordelen/{first}?lang=fr", data=form, headers=OWN_PAGE)
    assert response.status_code == 422
    html = unescape(response.text)
    assert f'<a href="#reason">{message(REASON_NEEDED, "fr")}</a>' in html
    assert 'aria-describedby="reason-hint reason-error" aria-invalid="true"' in html
    everything = client.app.state.services.reviews.accuracy(
        datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    )
    assert everything.reviews == 0

    gone = client.get("/beheer/beoordelen/no-such-answer?lang=fr")
    assert gone.status_code == 404

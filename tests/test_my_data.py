"""'Who used my data' (issue 21): the access log as the person reads it back, through the API, the page
/mijn-gegevens and the assistant.

What the database decides (who sees which records, holds, filters) runs on both databases; the page's
words and the assistant on SQLite, where the database plays no part.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient

from loket.assistant import routing
from loket.assistant.routing import Route
from loket.assistant.texts import ACCESS_FOR_YOU, ACCESS_LOG_NEEDS_LOGIN, ACCESS_LOG_NOTHING
from loket.consent.processing import category_name, register
from loket.i18n import message, plain

AN, JAN, MARIE = "an-peeters", "jan-janssens", "marie-dubois"
BAKERY = "organisation:0712345630"
PAGE = "/mijn-gegevens"
BRUSSELS = ZoneInfo("Europe/Brussels")
DAY = 24 * 3600
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def app(demo_app: TestClient) -> TestClient:
    """The demo as `make run` seeds it: persons, Jan's mandate to An, their cases."""
    return demo_app


def login(client: TestClient, person: str) -> None:
    client.cookies.clear()
    assert client.post("/auth/demo-login", json={"person": person}).status_code == 200


def act_as(client: TestClient, kind: str) -> dict:
    profile = next(p for p in client.get("/api/v1/me").json()["profiles"] if p["kind"] == kind)
    assert client.post("/api/v1/me/profile", json={"profile": profile["id"]}).status_code == 200
    return profile


def an_reads_jans_cases(client: TestClient) -> None:
    """An, under the mandate Jan gave her (the demo's), reads his cases."""
    login(client, AN)
    act_as(client, "MANDATE")
    assert client.get("/api/v1/me/cases").status_code == 200


def access_log(client: TestClient, **params) -> list[dict]:
    response = client.get("/api/v1/me/access-log", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def by_an(log: list[dict]) -> list[dict]:
    return [a for a in log if a["requester"] == AN]


def page(client: TestClient, **params) -> str:
    response = client.get(PAGE, params={"lang": "en", **params})
    assert response.status_code == 200, response.text
    return unescape(response.text)


def rows(html: str) -> list[list[str]]:
    """The table's rows, each its cells' text: when, who, what, why."""
    body = html.partition("<tbody>")[2].partition("</tbody>")[0]
    return [
        [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in body.split("</tr>")
        if "<td>" in row
    ]


def column(html: str, index: int) -> list[str]:
    return [row[index] for row in rows(html)]


# Through the API, on both databases


def test_a_mandatarys_read_is_in_the_mandators_log_with_both_ids(app):
    an_reads_jans_cases(app)
    seen_by_an = access_log(app)
    assert all(a["subject"] == f"person:{AN}" for a in seen_by_an)  # under a mandate, still her own

    login(app, JAN)
    app.get("/api/v1/me")  # his own view
    cases = next(a for a in by_an(access_log(app)) if a["what"] == "cases")
    assert cases["requester"] == AN and cases["by"] == "An Peeters"
    assert cases["subject"] == f"person:{JAN}"
    assert cases["acting_for_you"] is True
    assert cases["acting_as"].startswith("mandate:") and cases["basis"] == cases["acting_as"]
    assert cases["why"] == "mandate_use"
    own = [a for a in access_log(app) if a["requester"] == JAN]
    assert own and not any(a["acting_for_you"] for a in own)


def test_a_record_on_hold_stays_hidden_until_disclosed_or_its_date_passes(app, clock):
    services = app.app.state.services
    an_reads_jans_cases(app)
    login(app, JAN)
    first, second = by_an(access_log(app))[:2]  # reading the cases, and acting under the mandate
    services.identity.access_log.hide(first["record"], clock() + timedelta(days=30), "Fraudeonderzoek")
    services.identity.access_log.hide(second["record"], clock() + timedelta(days=2), "Lopend onderzoek")
    records = {a["record"] for a in access_log(app)}
    assert first["record"] not in records and second["record"] not in records
    assert first["record"] not in {a["record"] for a in access_log(app, by=AN)}

    assert services.identity.access_log.disclose(first["record"]) is True
    shown = next(a for a in access_log(app) if a["record"] == first["record"])
    assert shown["held_reason"] == "Fraudeonderzoek" and shown["held_until"]
    assert second["record"] not in {a["record"] for a in access_log(app)}

    clock.advance(3 * DAY)
    login(app, JAN)  # the session did not outlive three days
    later = next(a for a in access_log(app) if a["record"] == second["record"])
    assert later["held_reason"] == "Lopend onderzoek"


def test_the_log_is_filtered_by_period_purpose_and_reader(app, clock):
    start = clock.freeze()
    an_reads_jans_cases(app)
    clock.advance(5 * DAY)
    login(app, JAN)
    app.get("/api/v1/me")  # Jan's own view, five days later
    everything = access_log(app)
    assert by_an(everything) and any(a["requester"] == JAN for a in everything)

    before = access_log(app, until=(start + timedelta(days=1)).isoformat())
    assert before and all(a["requester"] == AN for a in before)
    after = access_log(app, since=(start + timedelta(days=4)).isoformat())
    assert after and all(a["requester"] == JAN for a in after)
    assert {a["requester"] for a in access_log(app, purpose="mandate_use")} == {AN}
    assert {a["why"] for a in access_log(app, purpose="own_view")} == {"own_view"}
    assert {a["requester"] for a in access_log(app, by=AN)} == {AN}
    assert access_log(app, limit=1) == everything[:1]
    assert app.get("/api/v1/me/access-log", params={"since": "yesterday"}).status_code == 422
    assert app.get("/api/v1/me/access-log", params={"limit": 0}).status_code == 422


def test_an_organisations_records_are_seen_acting_for_it_not_in_ones_own_view(app):
    login(app, AN)
    act_as(app, "EA")
    assert app.get("/api/v1/me/cases").status_code == 200
    bakery = access_log(app)
    assert bakery and all(a["subject"] == BAKERY for a in bakery)
    assert any(a["what"] == "cases" and a["requester"] == AN for a in bakery)
    act_as(app, "BUR")
    assert all(a["subject"] == f"person:{AN}" for a in access_log(app))


# The page


@sqlite_only
def test_the_page_shows_a_mandate_read_as_acting_for_you_in_plain_words(app):
    an_reads_jans_cases(app)
    login(app, JAN)
    html = page(app)
    assert "<h1>" + plain("en", "Who used my data") + "</h1>" in html
    acting_for_you = plain("en", "%(name)s, acting for you", name="An Peeters")
    mandate_use = register().purposes["mandate_use"]
    newest, *_ = rows(html)
    assert newest[1:3] == [plain("en", "you"), category_name("person", "en")]  # reading this page
    read = next(row for row in rows(html) if row[2] == category_name("cases", "en"))
    assert read[1] == acting_for_you
    assert read[3].startswith(mandate_use.name["en"]) and mandate_use.legal_basis["en"] in read[3]
    dutch = rows(unescape(app.get(PAGE).text))
    assert plain("nl", "%(name)s, acting for you", name="An Peeters") in [row[1] for row in dutch]
    assert any(row[3].startswith(mandate_use.name["nl"]) for row in dutch)


@sqlite_only
def test_reading_the_page_is_in_the_log_and_its_link_is_on_the_profile_page(app):
    login(app, MARIE)
    assert app.get(PAGE, params={"lang": "en"}).status_code == 200
    assert any(a["why"] == "own_view" and a["requester"] == MARIE for a in access_log(app))
    profile = app.get("/mijn-profiel", params={"lang": "en"}).text
    assert 'href="/mijn-gegevens?lang=en"' in profile
    assert plain("en", "See who used your data") in unescape(profile)
    app.cookies.clear()
    anonymous = app.get(PAGE)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/aanmelden")


@sqlite_only
def test_the_page_leaves_out_a_held_record_and_later_says_why_it_was_held(app):
    services = app.app.state.services
    an_reads_jans_cases(app)
    login(app, JAN)
    held = [a["record"] for a in by_an(access_log(app))]
    for record in held:
        services.identity.access_log.hide(record, datetime.now(BRUSSELS) + timedelta(days=9), "Audit 2026")
    acting_for_you = plain("en", "%(name)s, acting for you", name="An Peeters")
    assert acting_for_you not in page(app) and "Audit 2026" not in page(app)
    answer = app.post("/api/v1/ask", json={"question": "Wie heeft mijn gegevens bekeken?"}).json()
    assert "An Peeters" not in answer["answer"]

    for record in held:
        services.identity.access_log.disclose(record)
    html = page(app)
    assert acting_for_you in html
    today = format_date(datetime.now(BRUSSELS), "long", locale="en")
    said = plain("en", "Kept from view until %(date)s because: %(reason)s", date=today, reason="Audit 2026")
    assert html.count(said) == len(held)


@sqlite_only
def test_the_page_filters_by_period_reader_and_purpose(app, clock):
    start = clock.freeze()
    an_reads_jans_cases(app)
    clock.advance(5 * DAY)
    login(app, JAN)
    acting_for_you = plain("en", "%(name)s, acting for you", name="An Peeters")
    first_day = start.astimezone(BRUSSELS).date()
    html = page(app)
    assert f'<option value="{AN}">{acting_for_you}</option>' in html  # the readers to choose from
    assert f'<option value="{JAN}">{plain("en", "you")}</option>' in html

    earlier = page(app, since=first_day.isoformat(), until=first_day.isoformat())
    assert set(column(earlier, 1)) == {acting_for_you}
    later = page(app, since=(first_day + timedelta(days=4)).isoformat())
    assert set(column(later, 1)) == {plain("en", "you")}
    by_her = page(app, by=AN)
    assert f'<option value="{AN}" selected>' in by_her
    assert set(column(by_her, 1)) == {acting_for_you}
    own = page(app, purpose="own_view")
    assert set(column(own, 1)) == {plain("en", "you")}
    assert set(column(page(app, purpose="mandate_use"), 1)) == {acting_for_you}
    nothing = page(app, since=(first_day + timedelta(days=30)).isoformat())
    assert plain("en", "Nothing matches these filters.") in nothing

    bad = app.get(PAGE, params={"lang": "en", "since": "2026-13-45", "purpose": "gossip"})
    assert bad.status_code == 422
    assert plain("en", "Enter a date as year-month-day, for example 2026-03-01.") in unescape(bad.text)
    assert plain("en", "Choose a purpose from the list.") in unescape(bad.text)
    assert 'aria-invalid="true"' in bad.text
    backwards = app.get(PAGE, params={"since": "2026-03-02", "until": "2026-03-01"})
    assert backwards.status_code == 422


@sqlite_only
def test_the_page_shows_an_organisations_records_to_the_person_acting_for_it(app):
    login(app, AN)
    act_as(app, "EA")
    app.get("/api/v1/me/cases")
    html = page(app)
    assert "Bakkerij Peeters BV" in html.partition("</h1>")[2]
    assert column(html, 2) == [category_name("cases", "en")]  # the page view is her own, not the bakery's
    act_as(app, "BUR")
    assert category_name("cases", "en") not in column(page(app), 2)


# The assistant


@sqlite_only
def test_the_assistant_answers_who_used_my_data_from_the_log(app):
    an_reads_jans_cases(app)
    login(app, JAN)
    before = len(access_log(app, purpose="own_view"))
    dutch = app.post("/api/v1/ask", json={"question": "Wie heeft mijn gegevens bekeken?"}).json()
    assert dutch["status"] == "answered", dutch
    assert message(ACCESS_FOR_YOU, "nl", name="An Peeters") in dutch["answer"]
    assert [c["url"] for c in dutch["citations"]] == [PAGE]
    assert len(access_log(app, purpose="own_view")) == before + 1  # reading the log is a view of one's data

    french = app.post("/api/v1/ask", json={"question": "Qui a consulté mes données ?"}).json()
    assert french["status"] == "answered" and french["language"] == "fr"
    assert message(ACCESS_FOR_YOU, "fr", name="An Peeters") in french["answer"]


@sqlite_only
def test_the_assistant_asks_to_log_in_and_says_when_no_one_used_the_data(app):
    anonymous = app.post("/api/v1/ask", json={"question": "Wie heeft mijn gegevens bekeken?"}).json()
    assert anonymous["status"] == "needs_login"
    assert anonymous["answer"] == message(ACCESS_LOG_NEEDS_LOGIN, "nl")
    assert [c["url"] for c in anonymous["citations"]] == [PAGE]
    login(app, MARIE)
    app.get(PAGE)  # her own views are not what she asks about
    nothing = app.post("/api/v1/ask", json={"question": "Who looked at my data?", "language": "en"}).json()
    assert nothing["status"] == "answered"
    assert nothing["answer"] == message(ACCESS_LOG_NOTHING, "en")


@pytest.mark.parametrize(
    ("question", "route"),
    [
        ("wie heeft mijn gegevens bekeken?", Route.ACCESS_LOG),
        ("Wie heeft er toegang gehad tot mijn gegevens?", Route.ACCESS_LOG),
        ("Welke instanties hebben mijn persoonsgegevens geraadpleegd?", Route.ACCESS_LOG),
        ("qui a consulté mes données ?", Route.ACCESS_LOG),
        ("Quels services ont eu accès à mes données ?", Route.ACCESS_LOG),
        ("who looked at my data?", Route.ACCESS_LOG),
        ("Which organisations have accessed my personal data?", Route.ACCESS_LOG),
        ("wer hat meine Daten eingesehen?", Route.ACCESS_LOG),
        ("Wer hat auf meine Daten zugegriffen?", Route.ACCESS_LOG),
        # About the data a service needs, or whom to call: the catalogue answers.
        ("welke gegevens heb ik nodig voor een paspoort?", Route.INFORMATION),
        ("Wie heeft mijn gegevens nodig voor de aanvraag van een premie?", Route.INFORMATION),
        ("Wie kan ik mijn gegevens laten wijzigen?", Route.INFORMATION),
        ("Who do I call if someone used my data illegally?", Route.INFORMATION),
        ("Quelles données faut-il pour un passeport ?", Route.INFORMATION),
    ],
)
def test_questions_about_who_used_my_data_are_told_from_other_questions(question, route):
    assert routing.route(question) is route

"""Retention of everything personal (`loket purge`) and a person's erasure (`loket persons erase`).

Through the real CLI (typer's CliRunner, in process, so the test clock applies), on SQLite and
PostgreSQL; every check counts the rows themselves, not only what the command printed. National
numbers are fictitious: birth month plus 60, so never a real person's.
"""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import func, select
from typer.testing import CliRunner

from loket.assistant.models import ConversationRow, FeedbackRow, MessageRow
from loket.cases.models import CaseRow, CaseStatusRow, CaseSubjectRow
from loket.cases.schemas import CaseDraft, Status, Subject, SubjectType
from loket.cli import app as cli
from loket.config import Settings
from loket.errors import NotFound
from loket.identity.models import (
    AccessRow,
    LoginAttemptRow,
    MandateRow,
    PersonRow,
    RoleRow,
    SessionRow,
)
from loket.identity.schemas import Login, Party, Role
from loket.messages.schemas import Draft, Priority
from loket.proactive.service import DEMO_SENDER, demo_event
from loket.reports.schemas import Reporter

MINUTE, DAY = 60, 86400
RETENTION = {
    "conversation_retention_days": 30,
    "feedback_retention_days": 10,
    "session_retention_days": 1,
    "login_attempt_retention_minutes": 60,
    "access_log_retention_days": 30,
    # Logins end by their idle timeout (30 minutes) here: one past its maximum age would be removed by
    # the next login already, before any retention.
    "session_max_age": 60 * DAY,
}
JAN, ELS, MARIA = "85671512332", "92620324888", "51680534681"
TABLES = (
    ConversationRow,
    MessageRow,
    FeedbackRow,
    PersonRow,
    SessionRow,
    LoginAttemptRow,
    MandateRow,
    RoleRow,
    AccessRow,
    CaseRow,
    CaseStatusRow,
    CaseSubjectRow,
)


pytestmark = pytest.mark.usefixtures("keep_structlog_configuration")


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path, _env_file=None, **RETENTION)


@pytest.fixture
def loket(settings):
    """`loket ...` in process, with the same settings as the test's services."""
    env = {"LOKET_DATABASE_URL": settings.sqlalchemy_url, "LOKET_DATA_DIR": str(settings.data_dir)}
    env |= {f"LOKET_{name.upper()}": str(value) for name, value in RETENTION.items()}

    def run(*args: str):
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


def _count(services, model, *where) -> int:
    with services.db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _snapshot(services) -> dict[str, int]:
    return {model.__tablename__: _count(services, model) for model in TABLES}


def _table(output: str) -> dict[str, list[str]]:
    """The rows of the table a command printed, by their first cell."""
    rows = [line.split("│")[1:-1] for line in output.splitlines() if line.startswith("│")]
    return {cells[0].strip(): [cell.strip() for cell in cells[1:]] for cells in rows}


def _sign_in(services, subject: str, name: str, number: str):
    return services.identity.sessions.sign_in(
        Login(subject=subject, name=name, national_number=number, method="demo")
    )[1]


def _aged_and_fresh(services, clock) -> dict:
    """Of each kind one row past its retention and one within it, 35 days after the first ones: a
    conversation untouched since then, and one continued on day 25; ratings of day 0 and day 34; logins
    idle since day 0 and day 34; logins begun 71 and 66 minutes ago; reads on day 0 and day 34."""
    clock.freeze()
    services.events.prune(timedelta(0))  # what setting up the database announced (the index's revision)
    old = services.assistant.ask("Goedemorgen!")
    services.assistant.feedback(old.message_id, "down", "niet nuttig")
    alive = services.assistant.ask("Hallo")
    services.assistant.feedback(alive.message_id, "up", None)
    jan = _sign_in(services, "test#jan", "Jan Peeters", JAN)
    services.identity.access_log.record_own_view(jan)
    clock.advance(25 * DAY)
    follow_up = services.assistant.ask("Ik wil een medewerker spreken", conversation_id=alive.conversation_id)
    clock.advance(9 * DAY)
    services.assistant.feedback(follow_up.message_id, "up", None)
    fresh = _sign_in(services, "test#jan", "Jan Peeters", JAN)
    services.identity.access_log.record_own_view(fresh)
    clock.advance(DAY - 71 * MINUTE)
    services.identity.sessions.start_login("old-browser", "state", "nonce", "verifier", "/")
    clock.advance(5 * MINUTE)
    services.identity.sessions.start_login("new-browser", "state", "nonce", "verifier", "/")
    attempt = clock()
    clock.advance(66 * MINUTE)
    return {
        "old": old.conversation_id,
        "alive": alive.conversation_id,
        "session": fresh.token_hash,
        "attempt": attempt,
    }


# --- loket purge ----------------------------------------------------------------------------------


def test_purge_removes_what_is_past_its_retention_and_keeps_the_rest(services, loket, clock):
    made = _aged_and_fresh(services, clock)
    before = _snapshot(services)
    result = loket("purge")
    assert result.exit_code == 0, result.output
    table = _table(result.output)
    removed = {kind: int(cells[-1]) for kind, cells in table.items()}
    assert removed == {
        "conversations": 1,
        "messages": 1,
        "feedback": 2,  # the old conversation's, and the old rating on the one still in use
        "sessions": 1,
        "login attempts": 1,
        "access log": 1,
        "events": 3,  # every answer's event: on this clock all are older than 72 hours
        "hand-off steps": 0,  # tests/test_handoff.py purges them
        "continuation codes": 0,
        "life events": 0,  # tests/test_proactive.py purges them
        "reports": 0,  # tests/test_reports.py purges them
        "report photos": 0,
    }
    assert table["sessions"][0] == "1 day after ending"
    after = _snapshot(services)
    assert {name: before[name] - after[name] for name in before if before[name] != after[name]} == {
        "assistant_conversations": 1,
        "assistant_messages": 1,
        "assistant_feedback": 2,
        "identity_sessions": 1,
        "identity_login_attempts": 1,
        "identity_access_log": 1,
    }
    with pytest.raises(NotFound):
        services.assistant.conversation(made["old"])
    alive = services.assistant.conversation(made["alive"])
    assert [m.feedback for m in alive.messages] == [None, {"rating": "up", "reason": None}]
    assert _count(services, SessionRow, SessionRow.token_hash == made["session"]) == 1
    with services.db.session() as session:
        assert list(session.scalars(select(LoginAttemptRow.created_at))) == [made["attempt"]]
    assert _count(services, AccessRow) == 1
    # Run again: nothing more is past its retention.
    again = loket("purge")
    assert {int(cells[-1]) for cells in _table(again.output).values()} == {0}


def test_purge_dry_run_counts_and_removes_nothing(services, loket, clock):
    _aged_and_fresh(services, clock)
    before = _snapshot(services)
    result = loket("purge", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would be removed" in result.output and "dry run: nothing removed" in result.output
    assert _table(result.output)["feedback"][-1] == "2"
    assert _snapshot(services) == before
    assert {int(cells[-1]) for cells in _table(loket("purge").output).values()} == {0, 1, 2, 3}


def test_conversations_purge_still_removes_only_old_conversations(services, loket, clock):
    made = _aged_and_fresh(services, clock)
    result = loket("conversations", "purge")
    assert result.exit_code == 0, result.output
    assert "1 conversations older than 30 days removed" in result.output
    assert _count(services, ConversationRow) == 1
    # Its messages and their feedback went with it; old feedback elsewhere waits for `loket purge`.
    assert _count(services, MessageRow) == 2
    assert _count(services, FeedbackRow) == 2
    assert services.assistant.conversation(made["alive"])


def test_a_retention_must_be_positive():
    result = CliRunner().invoke(cli, ["purge"], env={"LOKET_FEEDBACK_RETENTION_DAYS": "0"})
    assert result.exit_code == 2
    assert "LOKET_FEEDBACK_RETENTION_DAYS: Input should be greater than 0" in result.output


# --- loket persons erase --------------------------------------------------------------------------


def _two_persons(services) -> dict:
    """Jan and Els, each with a login, a conversation, mandates to each other, a role and cases; one
    case about both; reads of each other's data and of their own in the access log. Jan also logged in
    at another identity provider, which makes him a second person with the same national number."""
    jan = _sign_in(services, "test#jan", "Jan Peeters", JAN)
    _sign_in(services, "other-issuer#jan", "Jan Peeters", JAN)
    els = _sign_in(services, "test#els", "Els Janssens", ELS)
    jans = services.assistant.ask("Goedemorgen!", user=jan)
    services.assistant.feedback(jans.message_id, "down", "niet nuttig")
    els_conversation = services.assistant.ask("Hallo", user=els).conversation_id
    anonymous = services.assistant.ask("Hallo").conversation_id
    mandates = services.identity.mandates
    mandates.grant(jan, ELS, "Els Janssens", [], date.today(), None, "nl")
    mandates.grant(els, JAN, "Jan Peeters", [], date.today(), None, "nl")
    mandates.grant(els, MARIA, "Maria Peeters", [], date.today(), None, "nl")
    services.identity.roles.grant(JAN, Role.AGENT)
    services.identity.roles.grant(ELS, Role.OPERATOR)
    cases = {
        name: _case(services, name, keys)
        for name, keys in (("jan", (JAN,)), ("both", (JAN, ELS)), ("els", (ELS,)))
    }
    services.cases.add_status("OMV", "jan", Status("IN_BEHANDELING", at=None))
    services.cases.add_agency("Omgevingsloket", "OMV")
    [agency] = services.cases.agencies()
    for reference, number in (("to-jan", JAN), ("to-els", ELS)):
        services.messages.receive(agency, _message(reference, number))
    lost_job = demo_event("loket.unemployment.started", {"subject": JAN, "since": "2026-11-02"})
    services.proactive.evaluate_event(services.proactive.receive(DEMO_SENDER, lost_job).id)
    log = services.identity.access_log
    log.record_own_view(jan)
    log.record(els, f"person:{jan.person.id}", "cases", "mandate_use")
    log.record(jan, f"person:{els.person.id}", "cases", "mandate_use")
    log.record_own_view(els)
    return {
        "jan": jan.person.id,
        "jan's logins": services.identity.retention.person_ids(JAN),
        "els": els.person.id,
        "jans": jans.conversation_id,
        "kept conversations": (els_conversation, anonymous),
        "cases": cases,
    }


def _message(reference: str, number: str) -> Draft:
    """A message as the API stores it once its signature is checked (the signature is not read again)."""
    return Draft(
        source="OMV",
        reference=reference,
        recipient_type="person",
        recipient_key=number,
        subject="Uw vergunning",
        body="Uw vergunning is verleend.",
        priority=Priority.NORMAL,
        valid_until=None,
        case_source=None,
        case_number=None,
        signed_body="{}",
        signature="checked..on-receipt",
        key_id="omv-key",
    )


def _case(services, number: str, keys: tuple[str, ...]) -> str:
    draft = CaseDraft(
        source="OMV",
        number=number,
        name="Omgevingsvergunning voor een tuinhuis",
        type="Omgevingsvergunning",
        status=Status("ONTVANGEN"),
        subjects=tuple(Subject("Aanvrager", SubjectType.PERSON, key) for key in keys),
    )
    return services.cases.upsert(draft)[0].id


def test_erase_without_yes_shows_what_would_go_and_changes_nothing(services, loket):
    _two_persons(services)
    before = _snapshot(services)
    result = loket("persons", "erase", "85.67.15-123.32")
    assert result.exit_code == 3, result.output
    assert "nothing erased: run again with --yes to erase" in result.output
    assert _table(result.output)["persons"] == ["2", ""]
    assert _snapshot(services) == before


def test_erase_removes_the_person_and_keeps_the_access_log_and_others(services, loket):
    made = _two_persons(services)
    photo = BytesIO()
    Image.new("RGB", (8, 8)).save(photo, "JPEG")
    photo.seek(0)
    report = services.reports.submit(
        Reporter(made["jan"], JAN), "street-light", "Out", 51.05, 3.72, [("a.jpg", photo)], "nl"
    )
    services.reports.add_handler(JAN, "Fluvius (openbare verlichting)")  # he worked its queue too
    result = loket("persons", "erase", "85.67.15-123.32", "--yes")
    assert result.exit_code == 0, result.output
    assert "********332" in result.output
    assert JAN not in result.output and "85.67.15" not in result.output
    assert "Kept: the access log" in result.output
    table = _table(result.output)
    assert {kind: cells for kind, cells in table.items() if cells[0]} == {
        "conversations": ["1", ""],
        "messages": ["1", ""],
        "feedback": ["1", ""],
        "cases": ["2", ""],  # one his report's
        "case statuses": ["3", ""],
        "links to cases shared with others": ["1", ""],
        "messages from agencies": ["1", ""],
        "life events": ["1", ""],
        "facts": ["1", ""],  # where the unemployment began
        "suggestions": ["4", ""],  # its five rules, but for the school allowance: no child known
        "choices": ["0", ""],
        "hand-off steps": ["0", ""],
        "sessions": ["2", ""],
        "passkeys": ["0", ""],
        "mandates given": ["1", ""],
        "mandates received": ["1", ""],
        "roles": ["1", ""],
        "access log: their own reads": ["1", ""],
        "persons": ["2", ""],
        "reports": ["1", ""],
        "report photos": ["1", ""],
        "report handlers": ["1", ""],
    }
    # Els's read, and loket's evaluation of four rules for each of Jan's two logins: accountability, kept
    assert table["access log: reads by others"] == ["", "9"]
    assert table["access log: their reads of others"] == ["", "1"]

    # Jan is gone, and what was his.
    assert _count(services, PersonRow) == 1
    assert _count(services, PersonRow, PersonRow.national_number == JAN) == 0
    assert _count(services, SessionRow) == 1
    with pytest.raises(NotFound):
        services.assistant.conversation(made["jans"])
    assert _count(services, FeedbackRow) == 0
    assert services.identity.roles.all() == [(ELS, Role.OPERATOR)]
    with services.db.session() as session:
        mandates = session.execute(select(MandateRow.mandator_id, MandateRow.mandatary_national_number)).all()
    assert mandates == [(made["els"], MARIA)]
    assert services.cases.get("OMV", "jan") is None
    assert not (services.settings.data_dir / "reports" / report.id).exists()
    assert _count(services, CaseStatusRow, CaseStatusRow.case_id == made["cases"]["jan"]) == 0
    assert [s.key for s in services.cases.get("OMV", "both").subjects] == [ELS]
    assert [s.key for s in services.cases.get("OMV", "els").subjects] == [ELS]
    assert services.messages.for_party(Party("person", JAN, "")) == []
    assert [m.reference for m in services.messages.for_party(Party("person", ELS, ""))] == ["to-els"]

    # Els keeps hers, and the access log keeps every read but Jan's of his own data.
    assert _count(services, SessionRow, SessionRow.person_id == made["els"]) == 1
    for conversation_id in made["kept conversations"]:
        assert services.assistant.conversation(conversation_id)
    with services.db.session() as session:
        log = set(session.execute(select(AccessRow.actor_id, AccessRow.subject)).all())
    assert log == {
        (made["els"], f"person:{made['jan']}"),
        (made["jan"], f"person:{made['els']}"),
        (made["els"], f"person:{made['els']}"),
        *(("loket", f"person:{login}") for login in made["jan's logins"]),
    }

    # Nothing is left to erase.
    again = loket("persons", "erase", JAN, "--yes")
    assert again.exit_code == 1
    assert "no person: loket holds nothing for ********332; nothing erased" in again.output


@pytest.mark.parametrize("number", ["85671512333", "85.67.15", "not a number"])
def test_erase_refuses_a_malformed_number_and_changes_nothing(services, loket, number):
    _two_persons(services)
    before = _snapshot(services)
    result = loket("persons", "erase", number, "--yes")
    assert result.exit_code == 2
    assert "not a valid national number" in result.output
    assert _snapshot(services) == before

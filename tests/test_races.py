"""Races fixed at the database (issue 16): questions asked at once on one conversation, and agencies
sending one new case at once. Each is tried with many threads starting together, on SQLite and on
PostgreSQL: no error, no 500, positions 0..n-1 each once, one case with one 201."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from loket.assistant.conversations import ConversationStore
from loket.assistant.schemas import Answer, Holder, Status
from loket.cases.models import CaseRow
from loket.db import Database

THREADS = 12


def at_once(work, count: int = THREADS) -> list:
    """`work(i)` in `count` threads that start together; the results (or errors) in order."""
    start = threading.Barrier(count)

    def run(index: int):
        start.wait(timeout=30)
        try:
            return work(index)
        except Exception as error:
            return error

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_questions_asked_at_once_on_one_conversation_get_one_position_each(services):
    assistant = services.assistant
    first = assistant.ask("Goedemorgen!")
    holder = Holder(token=first.conversation_token)
    conversation = first.conversation_id
    results = at_once(lambda i: assistant.ask(f"Hallo {i}", conversation_id=conversation, holder=holder))
    assert [r for r in results if isinstance(r, Exception)] == []
    messages = assistant.conversation(conversation, holder).messages
    assert [m.position for m in messages] == list(range(THREADS + 1))
    assert {m.id for m in messages} == {first.message_id} | {r.message_id for r in results}


def test_turns_stored_at_once_get_one_position_each(database: Database):
    """The store alone, with nothing before it to spread the threads out: the narrowest window."""
    store = ConversationStore(database)
    conversation = str(uuid.uuid4())
    store.add(_answer(conversation, "token"), "Eerste", "Eerste", [])
    results = at_once(lambda i: store.add(_answer(conversation), f"Vraag {i}", f"Vraag {i}", []))
    assert [r for r in results if isinstance(r, Exception)] == []
    positions = [m.position for m in store.get(conversation).messages]
    assert positions == list(range(THREADS + 1))


def _answer(conversation: str, token: str | None = None) -> Answer:
    return Answer(
        conversation_token=token,
        conversation_id=conversation,
        message_id=str(uuid.uuid4()),
        status=Status.OUT_OF_SCOPE,
        answer="Goedemorgen.",
        language="nl",
        trace_id=uuid.uuid4().hex,
    )


def test_one_new_case_sent_at_once_is_created_once(client):
    services = client.app.state.services
    agency = {"authorization": f"Bearer {services.cases.add_agency('Omgevingsloket', 'OMV')}"}
    body = {
        "name": "Omgevingsvergunning voor een tuinhuis",
        "type": "Omgevingsvergunning",
        "subjects": [{"role": "Aanvrager", "type": "person", "key": "85671500157"}],
        "status": {"code": "ONTVANGEN", "phase": "Indiening", "details": "Ontvangen."},
    }
    responses = at_once(lambda i: client.put("/api/v1/cases/OMV/OMV-RACE", json=body, headers=agency))
    assert [r for r in responses if isinstance(r, Exception)] == []
    assert sorted(r.status_code for r in responses) == [200] * (THREADS - 1) + [201]
    assert {r.json()["id"] for r in responses} == {responses[0].json()["id"]}
    case = services.cases.get("OMV", "OMV-RACE")
    assert len(case.timeline) == 1 and len(case.subjects) == 1 and case.version == 1
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(CaseRow)) == 1


def test_changes_to_one_case_sent_at_once_each_count(client):
    """Updates take turns on the case's row: each new status is in the timeline, and the version counts
    every change once."""
    services = client.app.state.services
    agency = {"authorization": f"Bearer {services.cases.add_agency('Omgevingsloket', 'OMV')}"}
    body = {
        "name": "Omgevingsvergunning",
        "type": "Omgevingsvergunning",
        "subjects": [{"role": "Aanvrager", "type": "person", "key": "85671500157"}],
        "status": {"code": "ONTVANGEN"},
    }
    assert client.put("/api/v1/cases/OMV/OMV-7", json=body, headers=agency).status_code == 201

    def change(index: int):
        status = {"code": f"STAP-{index}", "at": f"2025-01-{index + 1:02d}T10:00:00+00:00"}
        return client.put("/api/v1/cases/OMV/OMV-7", json=body | {"status": status}, headers=agency)

    responses = at_once(change)
    assert [r.status_code for r in responses] == [200] * THREADS
    case = services.cases.get("OMV", "OMV-7")
    assert len(case.timeline) == THREADS + 1
    assert case.version == THREADS + 1

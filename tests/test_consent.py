"""The processing register: published for anyone, and enforced on every read of personal data.

The refusals happen in code before anything is written, so one database is enough here; the reads
that do go through are shown on both databases by the blocks' own tests, which would fail here first.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from loket.consent.processing import UnregisteredUse, register
from loket.identity.models import AccessRow
from loket.identity.schemas import Login

SRC = Path(__file__).resolve().parents[1] / "src" / "loket"
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_anyone_reads_the_register_in_their_language(client):
    english = client.get("/api/v1/processing", params={"lang": "en"}).json()["purposes"]
    dutch = client.get("/api/v1/processing").json()["purposes"]
    assert [p["id"] for p in english] == list(register().purposes)
    proactive = next(p for p in english if p["id"] == "proactive")
    assert proactive["name"] == "Checking which services you are probably entitled to"
    assert "Article 6(1)(e)" in proactive["legal_basis"] and proactive["data_categories"] == ["suggestions"]
    assert next(p for p in dutch if p["id"] == "proactive")["name"].startswith("Nagaan")
    for purpose in english:
        assert purpose["retention"].startswith("LOKET_") or purpose["retention"] == "until_withdrawn"
        assert isinstance(purpose["consent_needed"], bool) and purpose["basis"].startswith("gdpr-")
        assert purpose["choice"] in (None, "opt_in", "opt_out")
    assert proactive["choice"] == "opt_out" and proactive["basis"] == "gdpr-6.1.e"


@pytest.mark.parametrize(
    ("what", "why", "refused"),
    [
        ("cases", "marketing", "no registered purpose 'marketing'"),
        ("messages", "proactive:kids-id", "does not cover 'messages'"),
        ("contact", "own_view", "does not cover 'contact'"),
    ],
)
def test_a_read_without_a_registered_purpose_is_refused_and_not_logged(services, what, why, refused):
    login = Login(subject="test#an", name="An Peeters", national_number="85671500157", method="demo")
    _, user = services.identity.sessions.sign_in(login)
    log = services.identity.access_log
    with services.db.session() as session:
        before = session.scalar(select(func.count()).select_from(AccessRow))
    with pytest.raises(UnregisteredUse, match=re.escape(refused)):
        log.record(user, user.active.subject, what, why)
    with pytest.raises(UnregisteredUse, match=re.escape(refused)):
        log.record_by_loket("85671500157", what, why)
    with services.db.session() as session:
        assert session.scalar(select(func.count()).select_from(AccessRow)) == before


def test_every_purpose_the_code_names_is_registered():
    """The purposes written in the blocks' reads (`why=`, `_why(…, "…")`, the access log's calls)."""
    named = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        named |= set(re.findall(r'why(?:: str)? ?= ?"(\w+)"', text))
        named |= set(re.findall(r'_why\(\w+, "(\w+)"\)', text))
        named |= set(re.findall(r'access_log\.record\([^)]*?"(\w+)"\s*\)', text, re.DOTALL))
    assert named, "the pattern found no purpose at all: it no longer matches the code"
    assert named <= set(register().purposes), named - set(register().purposes)

"""The tamper-evident access log (issue 21): RFC 6962 hashing, leaves and checkpoints the database keeps
append-only, `loket audit verify` naming the one changed record, checkpoints kept elsewhere, appends at
once, and the checkpoint published at /.well-known/loket-log-checkpoint.

The hashing needs no database and production's configuration runs on SQLite only; everything the
database keeps runs on SQLite and PostgreSQL. `loket` runs in process (typer's CliRunner), with the
test's database and data folder, so it signs with the same key as the test's services.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from loket.cli import app as cli
from loket.clock import now
from loket.consent.log import EMPTY_ROOT, Notary, appended, leaf_hash, root_of
from loket.identity.access import SESSION_COOKIE
from loket.identity.models import AccessRow
from loket.identity.schemas import Kind, Login
from loket.services import log_origin
from loket.web.app import create_app
from tests.test_races import THREADS, at_once
from tests.web_support import demo_settings

JAN, AN = "78631200367", "85671500157"  # fictitious national numbers (the demo's)
pytestmark = pytest.mark.usefixtures("keep_structlog_configuration")

# certificate-transparency's test vectors, as Trillian (merkle/testonly/constants.go) and
# transparency-dev/merkle (testonly/constants.go) publish them: the leaves' contents, and the root of
# the tree of the first n of them for n = 0..8.
VECTOR_LEAVES = (
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)
VECTOR_ROOTS = (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)


@pytest.fixture
def loket(settings):
    """`loket ...` in process, on the test's database and data folder (so its signing key)."""
    env = {"LOKET_DATABASE_URL": settings.sqlalchemy_url, "LOKET_DATA_DIR": str(settings.data_dir)}
    return lambda *args: CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def signed_in(services, number: str, subject: str | None = None):
    login = Login(
        subject=subject or f"test#{number}", name=f"Person {number}", national_number=number, method="demo"
    )
    return services.identity.sessions.sign_in(login)


def access_rows(services) -> list[tuple[int, int | None]]:
    """(id, place in the log) of every access-log row, oldest first."""
    with services.db.session() as session:
        return session.execute(select(AccessRow.id, AccessRow.seq).order_by(AccessRow.id)).all()


def mth(entries: list[bytes]) -> bytes:
    """RFC 6962 §2.1's Merkle Tree Hash, as the RFC writes it: split at the largest power of two
    below n, hash the halves recursively."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    split = 1 << ((len(entries) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(entries[:split]) + mth(entries[split:])).digest()


def roots(entries: list[bytes]) -> list[bytes]:
    """The root after each append (and of the empty log first), as the log's head keeps it."""
    compact, found = [], [root_of([])]
    for entry in entries:
        compact = appended(compact, leaf_hash(entry))
        found.append(root_of(compact))
    return found


def c2sp_verified(verifier_key: str, note: str) -> tuple[str, int, bytes]:
    """A signed note checked as any C2SP verifier does, knowing only the verifier key
    (name+hash+base64(0x01 || key)): its origin, size and root."""
    name, key_hash, typed = verifier_key.split("+", 2)
    raw = base64.b64decode(typed)
    assert raw[0] == 1 and hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() == key_hash
    body, _, signatures = note.partition("\n\n")
    (signature,) = [
        line.split(" ")[2] for line in signatures.splitlines() if line.split(" ")[:2] == ["\u2014", name]
    ]
    signed = base64.b64decode(signature)
    assert signed[:4].hex() == key_hash
    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(signed[4:], (body + "\n").encode())
    origin, size, root = body.split("\n")
    return origin, int(size), base64.b64decode(root)


# Hashing


def test_the_tree_hash_is_rfc_6962s():
    entries = [bytes(range(i % 7)) + f"entry {i}".encode() * (i % 3) for i in range(40)]
    assert roots(entries) == [mth(entries[:size]) for size in range(41)]
    assert [root.hex() for root in roots([bytes.fromhex(leaf) for leaf in VECTOR_LEAVES])] == list(
        VECTOR_ROOTS
    )


# Append-only at the database


def test_the_database_refuses_to_change_or_remove_a_leaf_or_a_checkpoint(services):
    _, user = signed_in(services, AN)
    for _ in range(3):
        services.identity.access_log.record_own_view(user)
    assert services.audit_log.checkpoint().size == 3
    tables = ("consent_log_leaves", "consent_log_checkpoints")
    statements = [
        "UPDATE consent_log_leaves SET hash = :forged WHERE seq = 1",
        "DELETE FROM consent_log_leaves WHERE seq = 2",
        "UPDATE consent_log_checkpoints SET root = :forged",
        "DELETE FROM consent_log_checkpoints",
    ]
    if services.db.engine.dialect.name == "postgresql":
        statements += [f"TRUNCATE {table}" for table in tables]

    def stored() -> dict[str, list]:
        with services.db.session() as session:
            return {
                table: session.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all() for table in tables
            }

    before = stored()
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), services.db.session() as session:
            session.execute(text(statement), {"forged": "00" * 32})
    assert stored() == before
    assert services.audit_log.verify(services.identity.access_log.entries()).problem is None


# `loket audit verify`


def test_verify_names_the_one_changed_record_and_lets_retention_remove_rows(services, loket, clock):
    _, user = signed_in(services, AN)
    for _ in range(3):
        services.identity.access_log.record_own_view(user)
    clock.advance(31 * 86400)
    for _ in range(4):
        services.identity.access_log.record_own_view(user)
    intact = loket("audit", "verify")
    assert intact.exit_code == 0, intact.output
    assert intact.stdout == "intact: 7 access records and 0 checkpoints match the log\n"

    removed = services.identity.retention.remove_expired(
        timedelta(days=1), timedelta(days=1), timedelta(days=30)
    )
    assert removed["access log"] == 3
    after_retention = loket("audit", "verify")
    assert after_retention.exit_code == 0, after_retention.output
    assert after_retention.stdout.startswith("intact: 4 access records")

    for column, forged in (
        ("why", "mandate_use"),
        ("subject", "person:someone-else"),
        ("basis", "gdpr-6.1.a"),
    ):
        kept = access_rows(services)
        changed_id, changed_seq = kept[1]
        with services.db.session() as session:
            session.execute(
                text(f"UPDATE identity_access_log SET {column} = :forged WHERE id = :id"),
                {"forged": forged, "id": changed_id},
            )
        failed = loket("audit", "verify")
        assert failed.exit_code == 1
        assert failed.stderr == (
            f"not intact: access record {changed_id} (log entry {changed_seq}) was changed: the log holds "
            "another hash\n"
        )
        with services.db.session() as session:  # removing it (retention may) leaves the others intact
            session.execute(text("DELETE FROM identity_access_log WHERE id = :id"), {"id": changed_id})
        assert loket("audit", "verify").exit_code == 0


def test_a_checkpoint_kept_elsewhere_still_verifies_after_more_appends_and_a_forged_one_fails(
    services, loket, settings, tmp_path
):
    _, user = signed_in(services, AN)
    for _ in range(3):
        services.identity.access_log.record_own_view(user)
    kept = loket("audit", "checkpoint").stdout
    for _ in range(5):
        services.identity.access_log.record_own_view(user)
    assert services.audit_log.checkpoint().size == 8
    path = tmp_path / "kept.txt"
    path.write_text(kept, encoding="utf-8")
    intact = loket("audit", "verify", "--checkpoint", str(path))
    assert intact.exit_code == 0, intact.output
    assert intact.stdout == "intact: 8 access records and 3 checkpoints match the log\n"

    notary = services.audit_log.notary
    size, root = notary.check(kept)
    stranger = Notary(log_origin(settings), Ed25519PrivateKey.generate())
    forgeries = {
        kept.replace(f"\n{size}\n", "\n2\n"): "a checkpoint: the checkpoint's signature does not match",
        kept.replace(base64.b64encode(root).decode(), base64.b64encode(EMPTY_ROOT).decode()): (
            "a checkpoint: the checkpoint's signature does not match"
        ),
        notary.sign(size, EMPTY_ROOT): "the checkpoint of size 3 does not match the log's first 3",
        notary.sign(9, root): "the checkpoint of size 9 does not match the log's first 9",
        stranger.sign(size, root): "a checkpoint: the checkpoint is not signed by this log's key",
    }
    for forged, problem in forgeries.items():
        path.write_text(forged, encoding="utf-8")
        failed = loket("audit", "verify", "--checkpoint", str(path))
        assert (failed.exit_code, failed.stderr) == (1, f"not intact: {problem}\n"), forged


# Appends at once


@pytest.mark.parametrize("started", [False, True], ids=["empty log", "log with a head"])
def test_appends_at_once_get_places_without_gaps(services, started):
    """Half the threads record a person's read, half loket's own read of a person with two logins (two
    entries in one transaction); on PostgreSQL they take turns on the head row."""
    _, user = signed_in(services, AN)
    signed_in(services, JAN, "test#jan-1")
    signed_in(services, JAN, "test#jan-2")
    access_log = services.identity.access_log
    if started:
        access_log.record_own_view(user)

    def read(index: int) -> None:
        if index % 2:
            access_log.record_by_loket(JAN, "suggestions", "proactive:kids-id")
        else:
            access_log.record_own_view(user)

    results = at_once(read)
    assert [r for r in results if isinstance(r, Exception)] == []
    expected = int(started) + THREADS // 2 * 3
    assert sorted(seq for _, seq in access_rows(services)) == list(range(expected))
    verification = services.audit_log.verify(access_log.entries())
    assert (verification.entries, verification.problem) == (expected, None)


# The published checkpoint


def test_the_published_checkpoint_is_signed_and_grows_with_new_reads(client, settings):
    services = client.app.state.services
    token, _ = signed_in(services, AN)
    client.cookies.set(SESSION_COOKIE, token)
    notary = Notary.from_key(log_origin(settings), (settings.data_dir / "log.pem").read_bytes())
    published = []
    for reads in (2, 3):
        for _ in range(reads):
            assert client.get("/api/v1/me").status_code == 200  # a read of one's own data, logged
        response = client.get("/.well-known/loket-log-checkpoint")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        published.append(response.text)
    (first, first_root), (second, second_root) = [notary.check(note) for note in published]
    assert (first, second) == (2, 5) and first_root != second_root
    assert c2sp_verified(notary.public_key(), published[1]) == ("loket.localhost/access-log", 5, second_root)
    assert services.audit_log.verify(services.identity.access_log.entries(), published).problem is None


@pytest.mark.parametrize("configured", [False, True], ids=["no key", "LOKET_LOG_SIGNING_KEY"])
def test_production_publishes_a_checkpoint_only_with_a_signing_key(
    sqlite_template, tmp_path, monkeypatch, configured
):
    monkeypatch.delenv("LOKET_ENV")
    key = base64.urlsafe_b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode().rstrip("=")
    overrides = {"log_signing_key": key} if configured else {}
    app = create_app(
        demo_settings(sqlite_template, tmp_path, public_url="https://loket.example.be", **overrides)
    )
    assert app.state.services.settings.production
    with TestClient(app) as client:
        response = client.get("/.well-known/loket-log-checkpoint")
    app.state.services.db.dispose()
    assert not (tmp_path / "log.pem").exists(), "production keeps no key of its own"
    if configured:
        notary = Notary.from_key("loket.example.be/access-log", key.encode())
        assert response.status_code == 200 and notary.check(response.text) == (0, EMPTY_ROOT)
    else:
        assert response.status_code == 503


# Mandates


def test_a_mandataries_read_is_in_the_mandators_access_log_and_in_the_tamper_evident_log(services):
    identity = services.identity
    _, jan = signed_in(services, JAN)
    identity.mandates.grant(jan, AN, "An Peeters", [], date.today(), None, "nl", messages=True)
    _, an = signed_in(services, AN)
    mandate = next(p for p in an.profiles if p.kind is Kind.MANDATE)
    acting = identity.sessions.switch(an, mandate.id, "nl")
    assert services.messages.inbox(acting, "nl") == []

    assert [(a.actor, a.what, a.why) for a in identity.access_log.accesses(jan)] == [
        (f"Person {AN}", "messages", "mandate_use"),
        (f"Person {AN}", "mandate", "mandate_use"),
    ]
    # Requester and data subject apart, and the mandate as the consent the reads rested on.
    assert {
        (a.actor_id, a.profile, a.subject, a.basis, a.for_you) for a in identity.access_log.accesses(jan)
    } == {(an.person.id, mandate.id, f"person:{jan.person.id}", mandate.id, True)}
    with services.db.session() as session:
        seqs = session.scalars(
            select(AccessRow.seq).where(AccessRow.subject == f"person:{jan.person.id}")
        ).all()
    assert len(seqs) == 2 and None not in seqs
    verification = services.audit_log.verify(identity.access_log.entries())
    assert (verification.entries, verification.problem) == (len(access_rows(services)), None)


def test_appends_in_one_transaction_take_the_next_places_whatever_the_autoflush(services):
    """A batch (several appends before a commit) with autoflush off, as a bulk writer may set it."""
    log = services.audit_log
    with services.db.session() as session:
        session.autoflush = False
        places = [log.append(session, f"entry {n}".encode()) for n in range(3)]
    assert places == [places[0], places[0] + 1, places[0] + 2]
    assert log.verify([]).problem is None


def test_a_held_record_stays_hidden_until_disclosed_and_is_still_in_the_log(services, loket, clock):
    _, an = signed_in(services, AN)
    services.identity.access_log.record_own_view(an)
    services.identity.access_log.record_own_view(an)
    first, second = (row_id for row_id, _ in access_rows(services))
    until = (now() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    held = loket("audit", "hide", str(second), "--until", until, "--reason", "Fraudeonderzoek")
    assert held.exit_code == 0, held.output
    assert loket("audit", "hide", str(second), "--until", until, "--reason", "again").exit_code == 1
    assert loket("audit", "hide", "999999", "--until", until, "--reason", "x").exit_code == 2
    assert [a.record for a in services.identity.access_log.accesses(an)] == [first]
    assert loket("audit", "verify").exit_code == 0  # held, not changed

    assert loket("audit", "disclose", str(second)).exit_code == 0
    shown = services.identity.access_log.accesses(an)
    assert [a.record for a in shown] == [second, first]
    assert shown[0].held.reason == "Fraudeonderzoek" and shown[0].held.disclosed_at is not None
    assert loket("audit", "disclose", str(second)).exit_code == 1  # no hold in force any more

    services.identity.access_log.hide(first, now() + timedelta(days=1), "Onderzoek")
    assert [a.record for a in services.identity.access_log.accesses(an)] == [second]
    clock.advance(2 * 86400)  # the date passed: shown, with the reason
    assert [a.held.reason for a in services.identity.access_log.accesses(an)][1] == "Onderzoek"

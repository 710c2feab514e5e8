"""A tamper-evident log: a Merkle tree over append-only leaves (RFC 6962/9162 hashing), with signed
checkpoints (C2SP tlog-checkpoint in a signed note, Ed25519).

What an entry says is kept by its owner (the access log's rows, which retention and erasure may
delete); the log keeps its hash, SHA-256(0x00 || content), at the entry's place. The database refuses
to change or remove a leaf or a checkpoint. The head keeps the log's compact range, so an append
costs O(log n) hashes and the root is always at hand; appenders take turns on the head row, which
hands out places without gaps. `verify` recomputes everything from the leaves and the owner's
entries, and names the first entry or checkpoint that does not match.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loket import clock
from loket.consent.models import CheckpointRow, HeadRow, LeafRow
from loket.db import Database, insert_new
from loket.logging import get_logger

log = get_logger(__name__)
HEAD = 1
EMPTY_ROOT = hashlib.sha256(b"").digest()
ED25519 = b"\x01"  # the signature type of an Ed25519 key in a signed note
Range = list[tuple[int, bytes]]  # (height, root) of each perfect subtree, largest first


def leaf_hash(content: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + content).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def appended(compact: Range, leaf: bytes) -> Range:
    """The compact range with one more leaf: equal-height subtrees on the right merge, as a binary
    counter carries."""
    compact = [*compact, (0, leaf)]
    while len(compact) > 1 and compact[-1][0] == compact[-2][0]:
        (height, left), (_, right) = compact[-2], compact[-1]
        compact[-2:] = [(height + 1, node_hash(left, right))]
    return compact


def root_of(compact: Range) -> bytes:
    """RFC 6962's Merkle tree hash of the whole log: the subtrees folded from the right."""
    if not compact:
        return EMPTY_ROOT
    root = compact[-1][1]
    for _, left in reversed(compact[:-1]):
        root = node_hash(left, root)
    return root


def new_signing_key() -> bytes:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


@dataclass(frozen=True)
class Checkpoint:
    size: int
    root: bytes
    note: str


@dataclass(frozen=True)
class Verification:
    entries: int
    checkpoints: int
    problem: str | None  # the first thing that does not match; None when the log is intact


class Notary:
    """Signs and checks checkpoints as signed notes: `origin`, size, root; then the signature line."""

    def __init__(self, origin: str, key: Ed25519PrivateKey) -> None:
        self.origin = origin
        self.key = key
        self.public = key.public_key()
        raw = self.public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_hash = hashlib.sha256(origin.encode() + b"\n" + ED25519 + raw).digest()[:4]

    @classmethod
    def from_key(cls, origin: str, key: bytes) -> Notary:
        """From an Ed25519 private key: PEM, or its 32 raw bytes base64url (`loket keys log`)."""
        if key.startswith(b"-----"):
            private = load_pem_private_key(key, password=None)
        else:
            private = Ed25519PrivateKey.from_private_bytes(
                base64.urlsafe_b64decode(key + b"=" * (-len(key) % 4))
            )
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError("the log's signing key must be an Ed25519 private key")
        return cls(origin, private)

    def public_key(self) -> str:
        """The verifier key as C2SP writes it: name+hash+base64(0x01 || public key)."""
        typed = base64.b64encode(ED25519 + self.public.public_bytes(Encoding.Raw, PublicFormat.Raw))
        return f"{self.origin}+{self.key_hash.hex()}+{typed.decode()}"

    def sign(self, size: int, root: bytes) -> str:
        body = f"{self.origin}\n{size}\n{base64.b64encode(root).decode()}\n"
        signature = base64.b64encode(self.key_hash + self.key.sign(body.encode())).decode()
        return f"{body}\n\u2014 {self.origin} {signature}\n"

    def check(self, note: str) -> tuple[int, bytes]:
        """The size and root a note signed by this notary says; ValueError otherwise."""
        body, _, signatures = note.partition("\n\n")
        body += "\n"
        lines = body.splitlines()
        if len(lines) < 3 or lines[0] != self.origin:
            raise ValueError("not a checkpoint of this log")
        public: Ed25519PublicKey = self.public
        for line in signatures.splitlines():
            name, _, signed = line.removeprefix("\u2014 ").partition(" ")
            raw = base64.b64decode(signed)
            if name == self.origin and raw[:4] == self.key_hash:
                try:
                    public.verify(raw[4:], body.encode())
                except InvalidSignature as error:
                    raise ValueError("the checkpoint's signature does not match") from error
                return int(lines[1]), base64.b64decode(lines[2])
        raise ValueError("the checkpoint is not signed by this log's key")


class TamperEvidentLog:
    def __init__(self, db: Database, notary: Notary | None) -> None:
        """Without a notary (production without LOKET_LOG_SIGNING_KEY) entries are still hashed into
        the log, but no checkpoint is signed."""
        self.db = db
        self.notary = notary

    def append(self, session: Session, content: bytes) -> int:
        """Adds an entry's hash in the caller's transaction; its place. The head row (made by migration
        0015) is written first and so locked until the transaction ends, on SQLite too (a write takes
        the database's lock): concurrent appends take turns, and a rolled-back one leaves no gap."""
        session.flush()  # an earlier append of this transaction first, whatever the session's autoflush
        session.execute(update(HeadRow).where(HeadRow.id == HEAD).values(size=HeadRow.size))
        head = session.get(HeadRow, HEAD, populate_existing=True)
        leaf = leaf_hash(content)
        compact = appended(_range(head.compact_range), leaf)
        seq = head.size
        session.add(LeafRow(seq=seq, hash=leaf.hex(), at=clock.now()))
        head.size, head.compact_range = seq + 1, [[h, node.hex()] for h, node in compact]
        return seq

    def checkpoint(self) -> Checkpoint | None:
        """Signs the log as it is now, unless a checkpoint has this size already; the latest. Two at
        once sign the same size: the second finds the first's."""
        if self.notary is None:
            return self.latest()
        with self.db.session() as session:
            head = session.get(HeadRow, HEAD)
            root = root_of(_range(head.compact_range))
            values = {"size": head.size, "root": root.hex(), "note": self.notary.sign(head.size, root)}
            if insert_new(session, CheckpointRow, values | {"at": clock.now()}, ["size"]):
                log.info("consent.checkpoint", size=head.size)
        return self.latest()

    def latest(self) -> Checkpoint | None:
        with self.db.session() as session:
            row = session.scalar(select(CheckpointRow).order_by(CheckpointRow.size.desc()).limit(1))
            return _checkpoint(row) if row else None

    def verify(self, entries: Iterable[tuple[int, str, bytes]], trusted: Iterable[str] = ()) -> Verification:
        """Checks every leaf against the entry it hashes (`entries`: place, the owner's name for it, its
        content; in any order), every stored checkpoint (and `trusted` notes kept elsewhere, such as one
        published earlier) against the root recomputed at its size, and the head. The first mismatch,
        by place in the log. The log as it was when verify began: what is appended meanwhile is not
        looked at, so verify can run while loket writes."""
        with self.db.session() as session:
            head = session.get(HeadRow, HEAD)
            stored = [
                row.note
                for row in session.scalars(select(CheckpointRow).where(CheckpointRow.size <= head.size))
            ]
        leaves = self._leaves(head.size)
        problems: list[tuple[int, str]] = []
        checked = 0
        for seq, name, content in entries:
            if seq is None or seq >= head.size:
                if seq is None:
                    problems.append((-1, f"{name} is not in the log: it was added around it"))
                continue
            checked += 1
            if leaf_hash(content) != leaves[seq]:
                problems.append((seq, f"{name} (log entry {seq}) was changed: the log holds another hash"))
        notes = [*stored, *trusted]
        if notes and self.notary is None:
            problems.append((head.size, "checkpoints cannot be checked without LOKET_LOG_SIGNING_KEY"))
        claimed = []
        for note in notes if self.notary else []:
            try:
                claimed.append(self.notary.check(note))
            except ValueError as error:
                problems.append((head.size, f"a checkpoint: {error}"))
        roots, root = _fold(leaves, {size for size, _ in claimed})
        for size, expected in claimed:
            if roots.get(size) != expected:
                problems.append(
                    (max(size, 1) - 1, f"the checkpoint of size {size} does not match the log's first {size}")
                )
        if root_of(_range(head.compact_range)) != root:
            problems.append((head.size, "the log's head does not match its leaves"))
        return Verification(checked, len(claimed), min(problems)[1] if problems else None)

    def _leaves(self, size: int) -> list[bytes]:
        with self.db.session() as session:
            rows = session.execute(
                select(LeafRow.seq, LeafRow.hash).where(LeafRow.seq < size).order_by(LeafRow.seq)
            ).yield_per(10_000)
            leaves = []
            for seq, value in rows:
                if seq != len(leaves):
                    raise ValueError(f"the log has a gap before entry {seq}")
                leaves.append(bytes.fromhex(value))
        if len(leaves) != size:
            raise ValueError(f"the log has {len(leaves)} entries where its head says {size}")
        return leaves


def _fold(leaves: list[bytes], sizes: set[int]) -> tuple[dict[int, bytes], bytes]:
    """The root at each of `sizes` (within the log), and of the whole log, in one pass."""
    compact: Range = []
    roots = {0: EMPTY_ROOT} if 0 in sizes else {}
    for count, leaf in enumerate(leaves, start=1):
        compact = appended(compact, leaf)
        if count in sizes:
            roots[count] = root_of(compact)
    return roots, root_of(compact)


def _range(stored: list) -> Range:
    return [(height, bytes.fromhex(node)) for height, node in stored]


def _checkpoint(row: CheckpointRow) -> Checkpoint:
    return Checkpoint(row.size, bytes.fromhex(row.root), row.note)

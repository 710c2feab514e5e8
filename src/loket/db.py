"""The database: one engine per app or command, SQLite by default, PostgreSQL with pgvector in production.

Blocks declare their tables on `Base`; Alembic migrations in `loket/migrations` create them.
Nothing here connects at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import numpy as np
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from pgvector.sqlalchemy import Vector as PgVector
from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    create_engine,
    delete,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from loket import clock
from loket.errors import LoketError
from loket.logging import get_logger

log = get_logger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
# The key of the PostgreSQL advisory lock that migrating and seeding take, so that two processes
# starting at once (replicas, a Helm hook and a job) do them one after the other: "loket" in ASCII.
ADVISORY_LOCK = 0x6C6F6B6574
T = TypeVar("T")

# JSONB on PostgreSQL (indexable), plain JSON text on SQLite.
JsonType = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator):
    """A moment, always in UTC: SQLite would otherwise drop the offset and give back a naive time."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect) -> datetime | None:
        return as_utc(value)

    def process_result_value(self, value: datetime | None, _dialect) -> datetime | None:
        return as_utc(value)


class VectorType(TypeDecorator):
    """An embedding: pgvector's `vector` on PostgreSQL, float32 bytes on SQLite; NumPy in Python."""

    impl = LargeBinary
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(PgVector() if dialect.name == "postgresql" else LargeBinary())

    def process_bind_param(self, value: np.ndarray | None, dialect):
        if value is None or dialect.name == "postgresql":
            return value
        return np.asarray(value, dtype=np.float32).tobytes()

    def process_result_value(self, value, dialect) -> np.ndarray | None:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return np.asarray(value, dtype=np.float32)
        return np.frombuffer(value, dtype=np.float32)


def as_utc(value: datetime | None) -> datetime | None:
    """Naive moments are taken to be UTC already."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class SeedRow(Base):
    """What was seeded into this database, once (the demo's parts): what an operator removed later
    stays removed, and a restart duplicates nothing."""

    __tablename__ = "loket_seeds"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    seeded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SchemaState(StrEnum):
    CURRENT = "current"
    BEHIND = "behind"  # an older revision of this code's, or none at all: `loket db upgrade`
    AHEAD = "ahead"  # a revision this code does not know: a newer release migrated it


@dataclass(frozen=True)
class Schema:
    """Where the database's schema is (`revision`, None when empty) against this code's `head`."""

    state: SchemaState
    revision: str | None
    head: str

    def problem(self) -> str:
        """One line for an operator, when the schema is behind."""
        at = self.revision or "nothing (an empty database)"
        return f"the database schema is at {at}, this loket needs {self.head}: run `loket db upgrade`"


class SchemaBehind(LoketError):
    """The database's schema is older than this code's: `loket db upgrade` first."""


class Database:
    def __init__(self, url: str, hide_parameters: bool = False) -> None:
        """`hide_parameters` keeps the values of a failed statement out of its error (and so out of logs):
        on in production, where they may be a person's data."""
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine: Engine = create_engine(url, pool_pre_ping=True, hide_parameters=hide_parameters)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back whole on any error."""
        with self._sessions.begin() as session:
            yield session

    @property
    def embedded(self) -> bool:
        """SQLite: the embedded setup, one process."""
        return self.engine.dialect.name == "sqlite"

    def upgrade(self) -> Schema:
        """Applies the migrations this code has; where the schema is then. On PostgreSQL under an
        advisory lock: two processes upgrading at once (replicas, a Helm hook, a job) take turns, and
        the second finds nothing left to do. SQLite takes none: it is the embedded setup, where one
        process migrates as it starts.

        A database already ahead of this code (a newer release migrated it) is left as it is."""
        with self.lock():
            if self.schema().state is not SchemaState.AHEAD:
                command.upgrade(self._alembic_config(), "head")
            return self.schema()

    def schema(self) -> Schema:
        """Where the schema is against this code's migrations. A revision it does not know is taken to be
        a newer release's: loket's migrations are one line, and only ever added to."""
        with self.engine.connect() as connection:
            revisions = MigrationContext.configure(connection).get_current_heads()
        head = self._scripts.get_current_head()
        if revisions == (head,):
            return Schema(SchemaState.CURRENT, head, head)
        unknown = [revision for revision in revisions if not self._knows(revision)]
        if unknown:
            return Schema(SchemaState.AHEAD, unknown[0], head)
        return Schema(SchemaState.BEHIND, revisions[0] if revisions else None, head)

    def is_current(self) -> bool:
        return self.schema().state is SchemaState.CURRENT

    def prepare(self) -> Schema:
        """For a process about to use the tables. The embedded SQLite database is migrated on the spot
        (one process: `make run` stays one command). PostgreSQL is only checked, as migrating is a step
        of its own (`loket db upgrade`) before new replicas start: a schema behind this code raises
        SchemaBehind; one ahead of it (a newer release's, in a rolling upgrade) is used, and logged."""
        schema = self.upgrade() if self.embedded else self.schema()
        if schema.state is SchemaState.BEHIND:
            raise SchemaBehind(schema.problem())
        if schema.state is SchemaState.AHEAD:
            log.warning("db.schema_ahead", revision=schema.revision, head=schema.head)
        return schema

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Holds loket's advisory lock on PostgreSQL (session-level, on a connection of its own, so it
        ends with the process even if it dies); on SQLite nothing."""
        if self.embedded:
            yield
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            if not connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK}):
                log.info("db.waiting_for_lock", reason="another process is migrating or seeding")
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK})

    def seed_once(self, name: str, load: Callable[[], T]) -> T | None:
        """Runs `load` unless this database was seeded with `name` before, then records it; under the
        lock, so that replicas starting at once seed it once. None when it had been."""
        with self.lock():
            with self.session() as session:
                if session.get(SeedRow, name) is not None:
                    return None
            loaded = load()
            with self.session() as session:
                session.add(SeedRow(name=name, seeded_at=clock.now()))
            return loaded

    def dispose(self) -> None:
        self.engine.dispose()

    @cached_property
    def _scripts(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self._alembic_config())

    def _knows(self, revision: str) -> bool:
        try:
            return self._scripts.get_revision(revision) is not None
        except CommandError:
            return False

    def _alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        return config


def count(session: Session, model: type[Base], where: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(model).where(where)) or 0


def remove(session: Session, model: type[Base], where: ColumnElement[bool], dry_run: bool = False) -> int:
    """Deletes the rows of `model` that match and says how many; `dry_run` only counts them, so that a
    retention or erasure can be shown before it is done."""
    if dry_run:
        return count(session, model, where)
    # Nothing of these rows is loaded in the session: no need to find and drop them there.
    statement = delete(model).where(where).execution_options(synchronize_session=False)
    return session.execute(statement).rowcount


def insert_new(session: Session, model: type[Base], values: dict, unique: list[str]) -> bool:
    """`INSERT … ON CONFLICT (unique) DO NOTHING`: whether the row was new. Two transactions inserting
    the same key at once get one row: on PostgreSQL the second waits for the first and inserts nothing;
    on SQLite the insert takes the database's write lock, so the rest of the transaction is alone."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=unique)
        .returning(*model.__table__.primary_key.columns)  # psycopg's rowcount here is -1
    )
    return session.execute(statement).first() is not None


def add_to(session: Session, model: type[Base], key: dict, amounts: dict) -> None:
    """Adds `amounts` to the row with primary key `key`, made (with them) if there is none: one
    `INSERT … ON CONFLICT DO UPDATE`, so answers stored at once on several servers all count."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(model).values(**key, **amounts)
    columns = model.__table__.c
    added = {name: columns[name] + statement.excluded[name] for name in amounts}
    session.execute(statement.on_conflict_do_update(index_elements=list(key), set_=added))


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()

"""The database: one engine per app or command, SQLite by default, PostgreSQL with pgvector in production.

Blocks declare their tables on `Base`; Alembic migrations in `loket/migrations` create them.
Nothing here connects at import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pgvector.sqlalchemy import Vector as PgVector
from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    TypeDecorator,
    create_engine,
    delete,
    event,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"

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

    def upgrade(self) -> None:
        command.upgrade(self._alembic_config(), "head")

    def is_current(self) -> bool:
        head = ScriptDirectory.from_config(self._alembic_config()).get_current_head()
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision() == head

    def dispose(self) -> None:
        self.engine.dispose()

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


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

import loket.models  # noqa: F401
from loket.db import Base, Database


def test_migrations_create_exactly_the_models(database):
    assert database.is_current()
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _ours})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def _ours(item, name, kind, reflected, compare_to) -> bool:
    """The job queue's tables are procrastinate's (migration 0010 applies its schema), not models."""
    table = item if kind == "table" else getattr(item, "table", None)
    return table is None or not table.name.startswith("procrastinate_")


def test_upgrade_twice_changes_nothing(database):
    database.upgrade()
    assert database.is_current()


def test_postgresql_has_pgvector(postgresql_url):
    database = Database(postgresql_url)
    with database.engine.connect() as connection:
        version = connection.execute(
            text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        ).scalar()
    database.dispose()
    assert version

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

import loket.models  # noqa: F401
from loket.db import Base, Database


def test_migrations_create_exactly_the_models(database):
    assert database.is_current()
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


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

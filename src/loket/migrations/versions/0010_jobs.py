"""The job queue's tables and functions: procrastinate's own schema, on PostgreSQL only.

On SQLite the jobs are held in memory by `loket serve` (see loket/jobs.py). The schema is the one of
the pinned procrastinate version; a newer procrastinate brings migration files of its own, which
a new loket migration must apply.

Revision ID: 0010
Revises: 0009
"""

from alembic import op
from procrastinate.schema import SchemaManager

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _run(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _run(
        """
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
            procrastinate_workers CASCADE;
        DO $$ DECLARE object record; BEGIN
            FOR object IN
                SELECT oid::regprocedure AS name FROM pg_proc WHERE proname LIKE 'procrastinate%'
            LOOP
                EXECUTE 'DROP FUNCTION IF EXISTS ' || object.name || ' CASCADE';
            END LOOP;
        END $$;
        DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
            procrastinate_job_status CASCADE;
        """
    )


def _run(script: str) -> None:
    """On psycopg itself, in the migration's transaction, without parameters: the functions' bodies hold
    colons and percent signs that SQLAlchemy and psycopg would otherwise take for placeholders."""
    op.get_bind().connection.driver_connection.execute(script)

"""The tamper-evident log: its leaves and checkpoints, append-only by the database's own triggers, and
its head; each access-log row's place in it and the salt that keeps its hash from being guessed.

Revision ID: 0015
Revises: 0014
"""

import secrets

import sqlalchemy as sa
from alembic import op

from loket.consent.log import appended, leaf_hash
from loket.db import JsonType, UtcDateTime
from loket.identity.access_log import canonical

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

APPEND_ONLY = ("consent_log_leaves", "consent_log_checkpoints")


def upgrade() -> None:
    op.create_table(
        "consent_log_leaves",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_consent_log_leaves"),
    )
    op.create_table(
        "consent_log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("compact_range", JsonType, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consent_log_head"),
    )
    op.create_table(
        "consent_log_checkpoints",
        sa.Column("size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("size", name="pk_consent_log_checkpoints"),
    )
    with op.batch_alter_table("identity_access_log") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("salt", sa.String(32), nullable=True))
    _chain_earlier_rows()
    with op.batch_alter_table("identity_access_log") as batch:
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("salt", existing_type=sa.String(32), nullable=False)
        batch.create_unique_constraint("uq_identity_access_log_seq", ["seq"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION consent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'the log is append-only: % on % refused', TG_OP, TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION consent_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION consent_append_only()"
            )
    else:
        for table in APPEND_ONLY:
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'the log is append-only'); END"
                )


def _chain_earlier_rows() -> None:
    """The rows written before the log, in their order, become its first entries; then the head."""
    rows = sa.table(
        "identity_access_log",
        *(sa.column(name) for name in ("id", "actor_id", "profile", "subject", "what", "why", "seq", "salt")),
        sa.column("at", UtcDateTime()),
    )
    connection = op.get_bind()
    compact, count = [], 0
    for row in connection.execute(sa.select(rows).order_by(rows.c.id)).all():
        salt = secrets.token_hex(16)
        leaf = leaf_hash(canonical(row.at, row.actor_id, row.profile, row.subject, row.what, row.why, salt))
        connection.execute(
            sa.table(
                "consent_log_leaves", sa.column("seq"), sa.column("hash"), sa.column("at", UtcDateTime())
            )
            .insert()
            .values(seq=count, hash=leaf.hex(), at=row.at)
        )
        connection.execute(rows.update().where(rows.c.id == row.id).values(seq=count, salt=salt))
        compact, count = appended(compact, leaf), count + 1
    head = sa.table(
        "consent_log_head", sa.column("id"), sa.column("size"), sa.column("compact_range", JsonType)
    )
    connection.execute(
        head.insert().values(id=1, size=count, compact_range=[[h, node.hex()] for h, node in compact])
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION consent_append_only()")
    else:
        for table in APPEND_ONLY:
            for operation in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_no_{operation}")
    with op.batch_alter_table("identity_access_log") as batch:
        batch.drop_constraint("uq_identity_access_log_seq", type_="unique")
        batch.drop_column("salt")
        batch.drop_column("seq")
    for table in ("consent_log_checkpoints", "consent_log_head", "consent_log_leaves"):
        op.drop_table(table)

"""My data: each access record's legal basis and trace; holds that keep a record from view for a while;
people's choices for optional uses of their data, which take over proactive services' opt-outs.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

from loket.db import UtcDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

OPT_OUTS = sa.table(
    "proactive_opt_outs", sa.column("subject_kind"), sa.column("subject_key"), sa.column("at", UtcDateTime())
)


def upgrade() -> None:
    with op.batch_alter_table("identity_access_log") as batch:
        batch.add_column(sa.Column("basis", sa.String(64), nullable=True))
        batch.add_column(sa.Column("trace_id", sa.String(32), nullable=True))
    op.create_table(
        "consent_holds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("record_seq", sa.Integer(), nullable=False),
        sa.Column("until", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("disclosed_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_consent_holds"),
        sa.UniqueConstraint("record_seq", name="uq_consent_holds_record_seq"),
    )
    choices = op.create_table(
        "consent_choices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(128), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("until", UtcDateTime(), nullable=True),
        sa.Column("by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_consent_choices"),
    )
    op.create_index(
        "ix_consent_choices_subject", "consent_choices", ["subject_kind", "subject_key", "purpose"]
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(OPT_OUTS)).all():
        connection.execute(
            choices.insert().values(
                subject_kind=row.subject_kind,
                subject_key=row.subject_key,
                purpose="proactive",
                scope="all",
                granted=False,
                at=row.at,
                by="migration",
            )
        )
    op.drop_table("proactive_opt_outs")


def downgrade() -> None:
    op.create_table(
        "proactive_opt_outs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_key", sa.String(32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_proactive_opt_outs"),
        sa.UniqueConstraint("subject_kind", "subject_key", name="uq_proactive_opt_outs_subject_kind"),
    )
    choices = sa.table(
        "consent_choices",
        *(sa.column(name) for name in ("id", "subject_kind", "subject_key", "purpose", "granted")),
        sa.column("at", UtcDateTime()),
    )
    latest = {}
    for row in op.get_bind().execute(
        sa.select(choices).where(choices.c.purpose == "proactive").order_by(choices.c.id)
    ):
        latest[(row.subject_kind, row.subject_key)] = row
    for (kind, key), row in latest.items():
        if not row.granted:
            op.get_bind().execute(OPT_OUTS.insert().values(subject_kind=kind, subject_key=key, at=row.at))
    op.drop_index("ix_consent_choices_subject", table_name="consent_choices")
    op.drop_table("consent_choices")
    op.drop_table("consent_holds")
    with op.batch_alter_table("identity_access_log") as batch:
        batch.drop_column("trace_id")
        batch.drop_column("basis")

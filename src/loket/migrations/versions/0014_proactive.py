"""Proactive services: life events received, facts taken from them, suggestions, which agency may send
which event, opt-outs; and whether a mandate includes the mandator's suggestions.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from loket.db import JsonType, UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proactive_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("sender", sa.String(100), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_key", sa.String(32), nullable=False),
        sa.Column("data", JsonType, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("evaluated_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_proactive_events"),
        sa.UniqueConstraint("source", "event_id", name="uq_proactive_events_source"),
    )
    op.create_index("ix_proactive_events_subject_key", "proactive_events", ["subject_key"])
    op.create_index("ix_proactive_events_received_at", "proactive_events", ["received_at"])
    op.create_table(
        "proactive_facts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_key", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", JsonType, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_proactive_facts"),
        sa.UniqueConstraint("subject_kind", "subject_key", "name", name="uq_proactive_facts_subject_kind"),
    )
    op.create_table(
        "proactive_suggestions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_key", sa.String(32), nullable=False),
        sa.Column("rule_id", sa.String(100), nullable=False),
        sa.Column("rule_version", sa.String(32), nullable=False),
        sa.Column("service_id", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("used", JsonType, nullable=False),
        sa.Column("missing", JsonType, nullable=False),
        sa.Column("parameter_date", sa.Date(), nullable=False),
        sa.Column("event", JsonType, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("dismissed_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_proactive_suggestions"),
        sa.UniqueConstraint(
            "subject_kind", "subject_key", "rule_id", name="uq_proactive_suggestions_subject_kind"
        ),
    )
    op.create_table(
        "proactive_event_sources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_proactive_event_sources"),
        sa.UniqueConstraint("agency", "type", name="uq_proactive_event_sources_agency"),
    )
    op.create_table(
        "proactive_opt_outs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_key", sa.String(32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_proactive_opt_outs"),
        sa.UniqueConstraint("subject_kind", "subject_key", name="uq_proactive_opt_outs_subject_kind"),
    )
    with op.batch_alter_table("identity_mandates") as batch:
        batch.add_column(sa.Column("suggestions", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("identity_mandates") as batch:
        batch.drop_column("suggestions")
    for table in (
        "proactive_opt_outs",
        "proactive_event_sources",
        "proactive_suggestions",
        "proactive_facts",
        "proactive_events",
    ):
        op.drop_table(table)

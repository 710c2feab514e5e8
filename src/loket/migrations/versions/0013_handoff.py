"""Hand-off: its events (numbered per conversation), agents' presence, continuation codes.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from loket.db import JsonType, UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoff_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(36), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("data", JsonType, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_events"),
        sa.UniqueConstraint("conversation_id", "step", name="uq_handoff_events_conversation_id"),
    )
    op.create_index("ix_handoff_events_kind_at", "handoff_events", ["kind", "at"])
    op.create_table(
        "handoff_agents",
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("teams", JsonType, nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name="pk_handoff_agents"),
    )
    op.create_table(
        "handoff_continuations",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.String(36), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code_hash", name="pk_handoff_continuations"),
    )
    op.create_index("ix_handoff_continuations_conversation_id", "handoff_continuations", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("handoff_continuations")
    op.drop_table("handoff_agents")
    op.drop_table("handoff_events")

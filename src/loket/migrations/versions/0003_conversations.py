"""The assistant's conversations, feedback and kill switch.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from loket.db import JsonType, UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assistant_conversations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False, index=True),
        sa.PrimaryKeyConstraint("id", name="pk_assistant_conversations"),
    )
    op.create_table(
        "assistant_messages",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("conversation_id", sa.String(36), nullable=False, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("standalone", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("citations", JsonType, nullable=False),
        sa.Column("notices", JsonType, nullable=False),
        sa.Column("trace", JsonType, nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False, index=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["assistant_conversations.id"],
            name="fk_assistant_messages_conversation_id_assistant_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_assistant_messages"),
    )
    op.create_table(
        "assistant_feedback",
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("rating", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["assistant_messages.id"],
            name="fk_assistant_feedback_message_id_assistant_messages",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name="pk_assistant_feedback"),
    )
    op.create_table(
        "assistant_switch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_assistant_switch"),
    )


def downgrade() -> None:
    op.drop_table("assistant_switch")
    op.drop_table("assistant_feedback")
    op.drop_table("assistant_messages")
    op.drop_table("assistant_conversations")

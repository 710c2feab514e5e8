"""Insight: where each question was asked (web, widget, API), whether staff asked it, and its route.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assistant_messages") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="api"))
        batch.add_column(sa.Column("staff", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("route", sa.String(32), nullable=True))
    op.create_index("ix_assistant_messages_created_at", "assistant_messages", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_assistant_messages_created_at", table_name="assistant_messages")
    with op.batch_alter_table("assistant_messages") as batch:
        batch.drop_column("route")
        batch.drop_column("staff")
        batch.drop_column("channel")

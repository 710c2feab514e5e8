"""Races fixed at the database: a conversation's message positions are unique, and what was seeded
into the database (the demo) is recorded, so that a restart seeds nothing twice.

Two questions asked at once on one conversation could before get the same position. Such duplicates
are renumbered here rather than refused: within a conversation, by position, then time, then id, so
that no message is lost and the order stays as it was shown. Conversations without duplicates keep
their numbers.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from loket.db import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

RENUMBER = """
UPDATE assistant_messages SET position = (
    SELECT renumbered.position FROM (
        SELECT id, ROW_NUMBER() OVER (
            PARTITION BY conversation_id ORDER BY position, created_at, id
        ) - 1 AS position
        FROM assistant_messages
    ) AS renumbered
    WHERE renumbered.id = assistant_messages.id
)
WHERE conversation_id IN (
    SELECT conversation_id FROM assistant_messages GROUP BY conversation_id, position HAVING COUNT(*) > 1
)
"""


def upgrade() -> None:
    op.execute(RENUMBER)
    with op.batch_alter_table("assistant_messages") as table:
        table.create_unique_constraint(
            "uq_assistant_messages_conversation_id", ["conversation_id", "position"]
        )
    op.create_table(
        "loket_seeds",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("seeded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_loket_seeds"),
    )


def downgrade() -> None:
    op.drop_table("loket_seeds")
    with op.batch_alter_table("assistant_messages") as table:
        table.drop_constraint("uq_assistant_messages_conversation_id", type_="unique")

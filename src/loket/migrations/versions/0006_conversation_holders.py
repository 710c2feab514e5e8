"""Conversations have a holder: the hash of the token their browser or app holds, and the person.

Conversations from before have neither, so nobody can read or continue them any more (fail closed).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assistant_conversations") as table:
        table.add_column(sa.Column("token_hash", sa.String(64), nullable=True))
        table.add_column(sa.Column("person_id", sa.String(64), nullable=True))
        table.create_index("ix_assistant_conversations_token_hash", ["token_hash"], unique=True)
        table.create_index("ix_assistant_conversations_person_id", ["person_id"])


def downgrade() -> None:
    with op.batch_alter_table("assistant_conversations") as table:
        table.drop_index("ix_assistant_conversations_person_id")
        table.drop_index("ix_assistant_conversations_token_hash")
        table.drop_column("person_id")
        table.drop_column("token_hash")

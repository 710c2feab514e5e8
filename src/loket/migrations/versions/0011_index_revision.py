"""The mark of the search index's last complete sync, per embedder: what replicas rebuild from.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from loket.db import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_index_state",
        sa.Column("embedder", sa.String(200), primary_key=True),
        sa.Column("revision", sa.String(32), nullable=False),
        sa.Column("synced_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("search_index_state")

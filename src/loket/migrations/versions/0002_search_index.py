"""The search index: chunks of catalogue items and their vectors per embedder.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from loket.db import VectorType

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_chunks",
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("item_id", sa.String(36), nullable=False, index=True),
        sa.Column("item_hash", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("anchor", sa.String(100), nullable=False),
        sa.Column("heading", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False, index=True),
        sa.PrimaryKeyConstraint("id", name="pk_search_chunks"),
    )
    op.create_table(
        "search_vectors",
        sa.Column("embedder", sa.String(200), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("vector", VectorType(), nullable=False),
        sa.PrimaryKeyConstraint("embedder", "text_hash", name="pk_search_vectors"),
    )


def downgrade() -> None:
    op.drop_table("search_vectors")
    op.drop_table("search_chunks")

"""Catalogue items and their versions; the pgvector extension on PostgreSQL.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table(
        "catalog_items",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False, index=True),
        sa.Column("source_id", sa.String(255), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("sections", Json, nullable=False),
        sa.Column("audiences", Json, nullable=False),
        sa.Column("themes", Json, nullable=False),
        sa.Column("authority", sa.Text(), nullable=False),
        sa.Column("keywords", Json, nullable=False),
        sa.Column("created", Timestamp),
        sa.Column("modified", Timestamp),
        sa.Column("valid_until", Timestamp),
        sa.Column("licence", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False, index=True),
        sa.Column("withdrawn_at", Timestamp),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_items"),
        sa.UniqueConstraint("source", "source_id", "language", name="uq_catalog_items_key"),
    )
    op.create_table(
        "catalog_item_versions",
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("content", Json, nullable=False),
        sa.Column("recorded_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["catalog_items.id"],
            name="fk_catalog_item_versions_item_id_catalog_items",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "version", name="pk_catalog_item_versions"),
    )


def downgrade() -> None:
    op.drop_table("catalog_item_versions")
    op.drop_table("catalog_items")

"""Withdrawals kept for good, so the change feed keeps a withdrawal after the item returns; the items
withdrawn now are its first rows.

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

from loket.db import UtcDateTime

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_withdrawals",
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("withdrawn_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["catalog_items.id"],
            name="fk_catalog_withdrawals_item_id_catalog_items",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "version", name="pk_catalog_withdrawals"),
    )
    op.create_index(
        "ix_catalog_withdrawals_at", "catalog_withdrawals", ["withdrawn_at", "item_id", "version"]
    )
    op.execute(
        "INSERT INTO catalog_withdrawals (item_id, version, withdrawn_at) "
        "SELECT id, version, withdrawn_at FROM catalog_items "
        "WHERE status = 'withdrawn' AND withdrawn_at IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("catalog_withdrawals")

"""The catalogue's change feed (LDES) in its order: versions by when they were recorded.

Revision ID: 0024
Revises: 0023
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_catalog_item_versions_recorded", "catalog_item_versions", ["recorded_at", "item_id", "version"]
    )


def downgrade() -> None:
    op.drop_index("ix_catalog_item_versions_recorded", table_name="catalog_item_versions")

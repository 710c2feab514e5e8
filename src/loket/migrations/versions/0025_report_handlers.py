"""Who may work an authority's reports on the agent console, as operators granted it.

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

from loket.db import UtcDateTime

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports_handlers",
        sa.Column("national_number", sa.String(11), nullable=False),
        sa.Column("authority", sa.String(200), nullable=False),
        sa.Column("granted_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("national_number", "authority", name="pk_reports_handlers"),
    )


def downgrade() -> None:
    op.drop_table("reports_handlers")

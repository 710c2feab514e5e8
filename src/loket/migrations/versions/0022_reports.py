"""Reports ("meldingen"): each report with its category, place and reporter, and its photos' files.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

from loket.db import UtcDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports_reports",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("category", sa.String(50), nullable=False),
        sa.Column("authority", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=True),
        sa.Column("case_id", sa.String(32), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reports_reports"),
    )
    op.create_index("ix_reports_reports_place", "reports_reports", ["category", "latitude", "longitude"])
    op.create_index("ix_reports_reports_person_id", "reports_reports", ["person_id"])
    op.create_index("ix_reports_reports_created_at", "reports_reports", ["created_at"])
    op.create_table(
        "reports_photos",
        sa.Column("report_id", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports_reports.id"],
            name="fk_reports_photos_report_id_reports_reports",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "number", name="pk_reports_photos"),
    )


def downgrade() -> None:
    op.drop_table("reports_photos")
    op.drop_table("reports_reports")

"""Cases: cases, their subjects and status timeline, and agencies.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from loket.db import JsonType, UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _case_reference() -> tuple[sa.Column, sa.ForeignKeyConstraint]:
    return sa.Column("case_id", sa.String(32), nullable=False, index=True), sa.ForeignKeyConstraint(
        ["case_id"], ["cases_cases.id"], ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "cases_cases",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("number", sa.String(200), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("product", sa.String(100), nullable=True),
        sa.Column("contact", JsonType, nullable=False),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("status_code", sa.String(200), nullable=False),
        sa.Column("status_phase", sa.Text(), nullable=False),
        sa.Column("status_details", sa.Text(), nullable=False),
        sa.Column("action_needed", sa.Boolean(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("status_at", UtcDateTime(), nullable=False),
        sa.Column("described_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases_cases"),
        sa.UniqueConstraint("source", "number", name="uq_cases_cases_source"),
    )
    column, foreign_key = _case_reference()
    op.create_table(
        "cases_subjects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        column,
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        foreign_key,
        sa.PrimaryKeyConstraint("id", name="pk_cases_subjects"),
    )
    op.create_index("ix_cases_subjects_type_key", "cases_subjects", ["type", "key"])
    column, foreign_key = _case_reference()
    op.create_table(
        "cases_statuses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        column,
        sa.Column("code", sa.String(200), nullable=False),
        sa.Column("phase", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("action_needed", sa.Boolean(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        foreign_key,
        sa.PrimaryKeyConstraint("id", name="pk_cases_statuses"),
    )
    op.create_table(
        "cases_agencies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cases_agencies"),
        sa.UniqueConstraint("name", name="uq_cases_agencies_name"),
        sa.UniqueConstraint("token_hash", name="uq_cases_agencies_token_hash"),
    )


def downgrade() -> None:
    for table in ("cases_agencies", "cases_statuses", "cases_subjects", "cases_cases"):
        op.drop_table(table)

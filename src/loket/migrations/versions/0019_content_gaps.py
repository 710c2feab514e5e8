"""Insight, content gaps: clusters of unanswered questions per run, content owners' marks on them, and
the questions' vectors kept between runs.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

from loket.db import JsonType, UtcDateTime, VectorType

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insight_gap_runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("computed_at", UtcDateTime(), nullable=False),
        sa.Column("since", UtcDateTime(), nullable=False),
        sa.Column("until", UtcDateTime(), nullable=False),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_insight_gap_runs"),
    )
    op.create_index("ix_insight_gap_runs_computed_at", "insight_gap_runs", ["computed_at"])
    op.create_table(
        "insight_gaps",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("askers", sa.Integer(), nullable=False),
        sa.Column("down", sa.Integer(), nullable=False),
        sa.Column("asked", JsonType, nullable=False),
        sa.Column("examples", JsonType, nullable=False),
        sa.Column("items", JsonType, nullable=False),
        sa.Column("centroid", VectorType(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["insight_gap_runs.id"],
            name="fk_insight_gaps_run_id_insight_gap_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_insight_gaps"),
    )
    op.create_index("ix_insight_gaps_run_id", "insight_gaps", ["run_id"])
    op.create_table(
        "insight_gap_marks",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("centroid", VectorType(), nullable=False),
        sa.Column("seen_until", UtcDateTime(), nullable=False),
        sa.Column("marked_at", UtcDateTime(), nullable=False),
        sa.Column("marked_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_insight_gap_marks"),
    )
    op.create_table(
        "insight_gap_vectors",
        sa.Column("embedder", sa.String(200), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("vector", VectorType(), nullable=False),
        sa.PrimaryKeyConstraint("embedder", "message_id", name="pk_insight_gap_vectors"),
    )


def downgrade() -> None:
    op.drop_table("insight_gap_vectors")
    op.drop_table("insight_gap_marks")
    op.drop_index("ix_insight_gaps_run_id", table_name="insight_gaps")
    op.drop_table("insight_gaps")
    op.drop_index("ix_insight_gap_runs_computed_at", table_name="insight_gap_runs")
    op.drop_table("insight_gap_runs")

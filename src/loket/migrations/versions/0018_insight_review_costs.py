"""Insight, second part: test traffic marked on each answer; the answers summed per UTC hour and kind
(with their ratings, LLM tokens and cost) and the pages they cited per hour, so the figures read a few
rows an hour however many answers there are; content owners' reviews.

Revision ID: 0018
Revises: 0017
"""

from collections import Counter
from datetime import UTC

import sqlalchemy as sa
from alembic import op

from loket.db import JsonType, UtcDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

MESSAGES = sa.table(
    "assistant_messages",
    sa.column("id"),
    sa.column("created_at", UtcDateTime()),
    sa.column("status"),
    sa.column("route"),
    sa.column("language"),
    sa.column("channel"),
    sa.column("staff"),
    sa.column("citations", JsonType),
    sa.column("trace", JsonType),
)
FEEDBACK = sa.table("assistant_feedback", sa.column("message_id"), sa.column("rating"))
WHOSE = ("channel", "staff", "test")  # the key of an hour's sums, after the hour
KINDS = ("status", "route", "language")
SUMS = ("answers", "up", "down", "llm_answers", "prompt_tokens", "completion_tokens", "cost")


def upgrade() -> None:
    with op.batch_alter_table("assistant_messages") as batch:
        batch.add_column(sa.Column("test", sa.Boolean(), nullable=False, server_default=sa.false()))
    hourly = op.create_table(
        "assistant_answers_hourly",
        *_whose(),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in SUMS[:4]],
        *[sa.Column(name, sa.BigInteger(), nullable=False) for name in SUMS[4:6]],
        sa.Column("cost", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("hour", *WHOSE, name="pk_assistant_answers_hourly"),
    )
    kinds = op.create_table(
        "assistant_kinds_hourly",
        *_whose(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(32), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", *WHOSE, "kind", "value", name="pk_assistant_kinds_hourly"),
    )
    cited = op.create_table(
        "assistant_cited_hourly",
        *_whose(),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", *WHOSE, "url", name="pk_assistant_cited_hourly"),
    )
    op.create_table(
        "insight_reviews",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("reviewed_at", UtcDateTime(), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("sentences", JsonType, nullable=False),
        sa.Column("citations", JsonType, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_insight_reviews"),
    )
    op.create_index("ix_insight_reviews_message_id", "insight_reviews", ["message_id"])
    op.create_index("ix_insight_reviews_reviewed_at", "insight_reviews", ["reviewed_at"])
    _sum_the_answers_kept(hourly, kinds, cited)


def _whose() -> list[sa.Column]:
    return [
        sa.Column("hour", UtcDateTime(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("staff", sa.Boolean(), nullable=False),
        sa.Column("test", sa.Boolean(), nullable=False),
    ]


def _sum_the_answers_kept(hourly: sa.Table, kinds: sa.Table, cited: sa.Table) -> None:
    """The answers stored before, summed as `ConversationStore.add` and `give_feedback` now do."""
    connection = op.get_bind()
    ratings = dict(connection.execute(sa.select(FEEDBACK)).all())
    sums: dict[tuple, Counter] = {}
    values: Counter = Counter()
    pages: Counter = Counter()
    for row in connection.execute(sa.select(MESSAGES).execution_options(yield_per=1000)):  # streamed
        hour = row.created_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        whose = (hour, row.channel, row.staff, False)
        found = sums.setdefault(whose, Counter())
        found["answers"] += 1
        for kind, value in zip(KINDS, (row.status, row.route or "information", row.language), strict=True):
            values[(*whose, kind, value)] += 1
        if ratings.get(row.id) in ("up", "down"):
            found[ratings[row.id]] += 1
        details = next(
            (step["details"] for step in row.trace if "prompt_tokens" in step.get("details", {})), None
        )
        if details:
            found["llm_answers"] += 1
            for name in ("prompt_tokens", "completion_tokens", "cost"):
                found[name] += details.get(name) or 0
        for url in {citation["url"] for citation in row.citations}:
            pages[(*whose, url)] += 1
    key = ("hour", *WHOSE)
    op.bulk_insert(
        hourly,
        [
            {**dict(zip(key, whose, strict=True)), **{name: found[name] for name in SUMS}}
            for whose, found in sums.items()
        ],
    )
    op.bulk_insert(
        kinds, [dict(zip((*key, "kind", "value"), k, strict=True), answers=n) for k, n in values.items()]
    )
    op.bulk_insert(cited, [dict(zip((*key, "url"), k, strict=True), answers=n) for k, n in pages.items()])


def downgrade() -> None:
    op.drop_index("ix_insight_reviews_reviewed_at", table_name="insight_reviews")
    op.drop_index("ix_insight_reviews_message_id", table_name="insight_reviews")
    op.drop_table("insight_reviews")
    op.drop_table("assistant_cited_hourly")
    op.drop_table("assistant_kinds_hourly")
    op.drop_table("assistant_answers_hourly")
    with op.batch_alter_table("assistant_messages") as batch:
        batch.drop_column("test")

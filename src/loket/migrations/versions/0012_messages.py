"""Messages: signed messages and their readers' state, agencies' keys, link hosts and callbacks, push
subscriptions, preferences, delivery attempts, phishing campaigns; and whether a mandate includes messages.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from loket.db import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages_messages",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("recipient_type", sa.String(16), nullable=False),
        sa.Column("recipient_key", sa.String(32), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("case_source", sa.String(100), nullable=True),
        sa.Column("case_number", sa.String(200), nullable=True),
        sa.Column("valid_until", UtcDateTime(), nullable=True),
        sa.Column("signed_body", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("verification_code", sa.String(16), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("read_at", UtcDateTime(), nullable=True),
        sa.Column("archived_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_messages_messages"),
        sa.UniqueConstraint("source", "reference", name="uq_messages_messages_source"),
        sa.UniqueConstraint("verification_code", name="uq_messages_messages_verification_code"),
    )
    op.create_index(
        "ix_messages_recipient", "messages_messages", ["recipient_type", "recipient_key", "received_at"]
    )
    op.create_table(
        "messages_agency_keys",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_messages_agency_keys"),
    )
    op.create_index("ix_messages_agency_keys_agency", "messages_agency_keys", ["agency"])
    op.create_table(
        "messages_agency_hosts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("host", sa.String(253), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages_agency_hosts"),
        sa.UniqueConstraint("agency", "host", name="uq_messages_agency_hosts_agency"),
    )
    op.create_table(
        "messages_callbacks",
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("agency", name="pk_messages_callbacks"),
    )
    op.create_table(
        "messages_delivery_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(200), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages_delivery_attempts"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages_messages.id"],
            name="fk_messages_delivery_attempts_message_id_messages_messages",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_messages_delivery_attempts_message_id", "messages_delivery_attempts", ["message_id"])
    op.create_table(
        "messages_push_subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("p256dh", sa.String(200), nullable=False),
        sa.Column("auth", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages_push_subscriptions"),
        sa.UniqueConstraint("endpoint", name="uq_messages_push_subscriptions_endpoint"),
    )
    op.create_index("ix_messages_push_subscriptions_person_id", "messages_push_subscriptions", ["person_id"])
    op.create_table(
        "messages_preferences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("quiet_from", sa.Time(), nullable=True),
        sa.Column("quiet_until", sa.Time(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_messages_preferences"),
        sa.UniqueConstraint("person_id", "channel", name="uq_messages_preferences_person_id"),
    )
    op.create_table(
        "messages_phishing",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("normalised", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages_phishing"),
    )
    with op.batch_alter_table("identity_mandates") as batch:
        batch.add_column(sa.Column("messages", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("identity_mandates") as batch:
        batch.drop_column("messages")
    for table in (
        "messages_phishing",
        "messages_preferences",
        "messages_push_subscriptions",
        "messages_delivery_attempts",
        "messages_callbacks",
        "messages_agency_hosts",
        "messages_agency_keys",
        "messages_messages",
    ):
        op.drop_table(table)

"""Passkeys: the WebAuthn credentials persons registered to unlock loket on a device, and the
challenges handed to browsers, each taken once.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

from loket.db import JsonType, UtcDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_passkeys",
        sa.Column("id", sa.String(1400), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("transports", JsonType, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_used_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["identity_persons.id"],
            name="fk_identity_passkeys_person_id_identity_persons",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_identity_passkeys"),
    )
    op.create_index("ix_identity_passkeys_person_id", "identity_passkeys", ["person_id"])
    op.create_table(
        "identity_passkey_challenges",
        sa.Column("browser_hash", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("challenge", sa.String(128), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("browser_hash", name="pk_identity_passkey_challenges"),
    )
    op.create_index(
        "ix_identity_passkey_challenges_created_at", "identity_passkey_challenges", ["created_at"]
    )


def downgrade() -> None:
    op.drop_table("identity_passkey_challenges")
    op.drop_table("identity_passkeys")

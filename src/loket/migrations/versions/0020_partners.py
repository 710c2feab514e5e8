"""Partners: OAuth2 clients (scopes, quota, sandbox, the agency their write scopes act for) and the
access tokens issued to them, both by hash.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

from loket.db import UtcDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_clients",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("quota", sa.String(50), nullable=False),
        sa.Column("sandbox", sa.Boolean(), nullable=False),
        sa.Column("agency", sa.String(100), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_partner_clients"),
        sa.UniqueConstraint("name", name="uq_partner_clients_name"),
    )
    op.create_table(
        "partner_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(36), nullable=False),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["partner_clients.id"],
            name="fk_partner_tokens_client_id_partner_clients",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_partner_tokens"),
    )
    op.create_index("ix_partner_tokens_client_id", "partner_tokens", ["client_id"])
    op.create_index("ix_partner_tokens_expires_at", "partner_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_table("partner_tokens")
    op.drop_table("partner_clients")

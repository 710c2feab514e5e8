"""Identity: persons, sessions, login attempts, mandates, roles and the access log.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from loket.db import JsonType, UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_persons",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("national_number", sa.String(11), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_login_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_persons"),
        sa.UniqueConstraint("subject", name="uq_identity_persons_subject"),
        sa.UniqueConstraint("national_number", name="uq_identity_persons_national_number"),
    )
    op.create_table(
        "identity_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=False, index=True),
        sa.Column("active_profile", sa.String(128), nullable=False),
        sa.Column("profiles", JsonType, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("id_token", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["identity_persons.id"],
            name="fk_identity_sessions_person_id_identity_persons",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_identity_sessions"),
    )
    op.create_table(
        "identity_login_attempts",
        sa.Column("browser_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(128), nullable=False),
        sa.Column("nonce", sa.String(128), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("return_to", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False, index=True),
        sa.PrimaryKeyConstraint("browser_hash", name="pk_identity_login_attempts"),
    )
    op.create_table(
        "identity_mandates",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("mandator_id", sa.String(64), nullable=False, index=True),
        sa.Column("mandatary_national_number", sa.String(11), nullable=False, index=True),
        sa.Column("mandatary_name", sa.Text(), nullable=False),
        sa.Column("case_types", JsonType, nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["mandator_id"],
            ["identity_persons.id"],
            name="fk_identity_mandates_mandator_id_identity_persons",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_identity_mandates"),
    )
    op.create_table(
        "identity_roles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("national_number", sa.String(11), nullable=False, index=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("granted_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_roles"),
        sa.UniqueConstraint("national_number", "role", name="uq_identity_roles_national_number"),
    )
    op.create_table(
        "identity_access_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False, index=True),
        sa.Column("actor_id", sa.String(64), nullable=False, index=True),
        sa.Column("profile", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False, index=True),
        sa.Column("what", sa.String(128), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_access_log"),
    )


def downgrade() -> None:
    for table in (
        "identity_access_log",
        "identity_roles",
        "identity_mandates",
        "identity_login_attempts",
        "identity_sessions",
        "identity_persons",
    ):
        op.drop_table(table)

"""Login assurance: a session keeps its login level (`acr`) and no longer its ID token; a person's
national number is a claim that two persons (two issuers' accounts) may share, no longer unique.

Sessions from before have no level: where one is required, they must log in again (fail closed).
Persons are already known by issuer and subject (`subject` holds both), so none is rewritten.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identity_sessions") as table:
        table.drop_column("id_token")
        table.add_column(sa.Column("acr", sa.Text(), nullable=True))
    with op.batch_alter_table("identity_persons") as table:
        table.drop_constraint("uq_identity_persons_national_number", type_="unique")
        table.create_index("ix_identity_persons_national_number", ["national_number"])


def downgrade() -> None:
    """Refused, before changing anything, while two persons share a national number: which of them to
    keep is not the migration's call."""
    shared = op.get_bind().scalar(
        sa.text(
            "SELECT COUNT(*) FROM (SELECT national_number FROM identity_persons WHERE national_number "
            "IS NOT NULL GROUP BY national_number HAVING COUNT(*) > 1) AS shared"
        )
    )
    if shared:
        raise RuntimeError(
            f"{shared} national numbers belong to more than one person; erase or merge them first"
        )
    with op.batch_alter_table("identity_persons") as table:
        table.drop_index("ix_identity_persons_national_number")
        table.create_unique_constraint("uq_identity_persons_national_number", ["national_number"])
    with op.batch_alter_table("identity_sessions") as table:
        table.drop_column("acr")
        table.add_column(sa.Column("id_token", sa.Text(), nullable=True))

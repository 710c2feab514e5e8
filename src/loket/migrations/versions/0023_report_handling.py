"""Reports handled by their authority: the status it gave, when, and an anonymous reporter's contact.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

from loket.db import UtcDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports_reports") as table:
        table.add_column(sa.Column("status", sa.String(100), nullable=False, server_default="Ontvangen"))
        table.add_column(sa.Column("status_details", sa.Text(), nullable=False, server_default=""))
        table.add_column(sa.Column("updated_at", UtcDateTime(), nullable=True))
        table.add_column(sa.Column("contact", sa.String(200), nullable=True))
    op.create_index("ix_reports_reports_queue", "reports_reports", ["authority", "closed_at", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_reports_reports_queue", table_name="reports_reports")
    with op.batch_alter_table("reports_reports") as table:
        for column in ("contact", "updated_at", "status_details", "status"):
            table.drop_column(column)

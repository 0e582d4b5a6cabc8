"""customer merges remember the survivor's fields as they were and the widget visitors moved,
so undo restores exactly what was there

Revision ID: 0026_merge_details
Revises: 0020_admin_audit
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0026_merge_details"
down_revision = "0020_admin_audit"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("customer_merges") as batch_op:
        batch_op.add_column(
            sa.Column("details", JSON, nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("customer_merges") as batch_op:
        batch_op.alter_column("details", server_default=None, existing_type=JSON)


def downgrade() -> None:
    with op.batch_alter_table("customer_merges") as batch_op:
        batch_op.drop_column("details")

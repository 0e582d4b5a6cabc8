"""privacy: the customers whose personal data was erased

Revision ID: 0023_privacy
Revises: 0020_admin_audit
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0023_privacy"
down_revision = "0020_admin_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_erasures",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("counts", hub.db.base.JSONType, nullable=False),
        sa.Column("erased_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_erasures_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_customer_erasures_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_erasures")),
    )


def downgrade() -> None:
    op.drop_table("customer_erasures")

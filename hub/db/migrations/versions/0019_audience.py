"""audience: an index for consent lookups by channel kind and state (segment counts, senders)

Revision ID: 0019_audience
Revises: 0015_campaigns
Create Date: 2026-12-03 09:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0019_audience"
down_revision = "0015_campaigns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_consents_kind_state_customer",
        "consents",
        ["kind", "state", "customer_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_consents_kind_state_customer", table_name="consents")

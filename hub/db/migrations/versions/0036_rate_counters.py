"""rate-limit counters in the database (public forms, widget sockets), shared by every process

Revision ID: 0036_rate_counters
Revises: 0020_admin_audit
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0036_rate_counters"
down_revision = "0020_admin_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_counters",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("window_start", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_rate_counters")),
    )
    op.create_index("ix_rate_counters_window", "rate_counters", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_rate_counters_window", table_name="rate_counters")
    op.drop_table("rate_counters")

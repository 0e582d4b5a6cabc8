"""sign-in throttling per account and client (shared by every process); what each browser
session was opened from (user agent, client address)

Revision ID: 0022_signin
Revises: 0020_admin_audit
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0022_signin"
down_revision = "0020_admin_audit"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, hub.db.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "signin_throttles",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _when("window_start"),
        _when("locked_until", True),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_signin_throttles")),
    )
    op.create_index("ix_signin_throttles_updated", "signin_throttles", ["updated_at"])
    with op.batch_alter_table("ui_sessions") as batch_op:
        batch_op.add_column(
            sa.Column("user_agent", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("client_address", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("ui_sessions") as batch_op:
        batch_op.drop_column("client_address")
        batch_op.drop_column("user_agent")
    op.drop_index("ix_signin_throttles_updated", table_name="signin_throttles")
    op.drop_table("signin_throttles")

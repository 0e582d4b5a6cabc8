"""chat channels: generated channel secrets (the Telegram webhook secret token)

Revision ID: 0004_chat
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0004_chat"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_secrets",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("created_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "purpose", name=op.f("pk_channel_secrets")),
    )


def downgrade() -> None:
    op.drop_table("channel_secrets")

"""chat channels: fetches of the files customers send through Telegram and Slack

Revision ID: 0012_chat_files
Revises: 0004_chat
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0012_chat_files"
down_revision = "0004_chat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_file_fetches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("file_ref", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_chat_file_fetches_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_file_fetches")),
        sa.UniqueConstraint(
            "message_id", "position", name=op.f("uq_chat_file_fetches_message_id_position")
        ),
    )
    op.create_index(
        "ix_chat_file_fetches_due",
        "chat_file_fetches",
        ["state", "next_attempt_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_chat_file_fetches_due", table_name="chat_file_fetches")
    op.drop_table("chat_file_fetches")

"""Email channel: received mail with raw bytes and parts, attachments, mailbox state,
participants, conversation merges.

Revision ID: 0002_email
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db.base

revision = "0002_email"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, hub.db.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "email_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("header_id", sa.String(length=500), nullable=False),
        sa.Column("envelope_from", sa.String(length=500), nullable=True),
        sa.Column("envelope_to", JSON, nullable=False),
        sa.Column("from_address", sa.String(length=320), nullable=False),
        sa.Column("recipients", JSON, nullable=False),
        sa.Column("headers", JSON, nullable=False),
        sa.Column("full_text", sa.Text(), nullable=False),
        sa.Column("quoted_text", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("html_original", sa.Text(), nullable=True),
        sa.Column("forwarded_from", sa.String(length=500), nullable=True),
        sa.Column("bounce", JSON, nullable=True),
        sa.Column("parse_error", sa.Text(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        _time("created_at", False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_email_messages_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_messages")),
        sa.UniqueConstraint("header_id", name=op.f("uq_email_messages_header_id")),
        sa.UniqueConstraint("message_id", name=op.f("uq_email_messages_message_id")),
    )
    op.create_table(
        "email_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_id", sa.String(length=500), nullable=True),
        sa.Column("inline", sa.Boolean(), nullable=False),
        sa.Column("stored", sa.Boolean(), nullable=False),
        sa.Column("contains", JSON, nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["email_id"],
            ["email_messages.id"],
            name=op.f("fk_email_attachments_email_id_email_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_email_attachments_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_attachments")),
        sa.UniqueConstraint(
            "email_id", "position", name=op.f("uq_email_attachments_email_id_position")
        ),
    )
    op.create_index(
        op.f("ix_email_attachments_message_id"), "email_attachments", ["message_id"], unique=False
    )
    op.create_table(
        "email_mailboxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _time("last_error_at", True),
        _time("connected_at", True),
        _time("last_message_at", True),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        _time("updated_at", False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_mailboxes")),
        sa.UniqueConstraint("channel", "source", name=op.f("uq_email_mailboxes_channel_source")),
    )
    op.create_table(
        "email_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        _time("created_at", False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_email_participants_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_participants")),
        sa.UniqueConstraint(
            "conversation_id", "address", name=op.f("uq_email_participants_conversation_id_address")
        ),
    )
    op.create_table(
        "conversation_merges",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        _time("created_at", False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_conversation_merges_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_merges_source_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_merges_target_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("source_id", name=op.f("pk_conversation_merges")),
    )
    op.create_index(
        "ix_conversation_merges_target", "conversation_merges", ["target_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_merges_target", table_name="conversation_merges")
    op.drop_table("conversation_merges")
    op.drop_table("email_participants")
    op.drop_table("email_mailboxes")
    op.drop_index(op.f("ix_email_attachments_message_id"), table_name="email_attachments")
    op.drop_table("email_attachments")
    op.drop_table("email_messages")

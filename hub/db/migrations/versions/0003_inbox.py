"""agent inbox: event log, sessions, tags, mentions, snoozes, canned responses, merges, search

Revision ID: 0003_inbox
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db.base

revision = "0003_inbox"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
WHEN = hub.db.base.UTCDateTime(timezone=True)

# Full-text search over messages: FTS5 (external content, kept by triggers) on SQLite, an
# expression GIN index on PostgreSQL. hub/agent/search.py queries exactly these.
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "subject, text, content='messages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, subject, text) VALUES (new.id, new.subject, new.text); END",
    "CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, subject, text) "
    "VALUES ('delete', old.id, old.subject, old.text); END",
    "CREATE TRIGGER messages_fts_au AFTER UPDATE OF subject, text ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, subject, text) "
    "VALUES ('delete', old.id, old.subject, old.text); "
    "INSERT INTO messages_fts(rowid, subject, text) VALUES (new.id, new.subject, new.text); END",
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
)
POSTGRES_FTS = (
    "CREATE INDEX ix_messages_search ON messages USING gin "
    "(to_tsvector('simple', coalesce(subject, '') || ' ' || coalesce(text, '')))",
)
INBOX_INDEXES = {
    "ix_inbox_status_waiting": ["status", "last_inbound_at", "id"],
    "ix_inbox_assignee_waiting": ["assignee_id", "status", "last_inbound_at", "id"],
    "ix_inbox_team_waiting": ["team_id", "status", "last_inbound_at", "id"],
    "ix_inbox_status_activity": ["status", "last_activity_at", "id"],
    "ix_inbox_waiting": ["last_inbound_at", "id"],
}


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("_sentinel", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("team_ids", JSON, nullable=False),
        sa.Column("agent_ids", JSON, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_created_at"), "events", ["created_at"], unique=False)
    op.create_table(
        "ui_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_ui_sessions_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ui_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_ui_sessions_token_hash")),
    )
    op.create_index(op.f("ix_ui_sessions_agent_id"), "ui_sessions", ["agent_id"], unique=False)
    op.create_table(
        "conversation_tags",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_tags_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", "tag", name=op.f("pk_conversation_tags")),
    )
    op.create_index(
        "ix_conversation_tags_tag", "conversation_tags", ["tag", "conversation_id"], unique=False
    )
    op.create_table(
        "mentions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_mentions_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_mentions_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_mentions_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentions")),
    )
    op.create_index("ix_mentions_agent", "mentions", ["agent_id", "conversation_id"], unique=False)
    op.create_table(
        "snoozes",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("until", WHEN, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_snoozes_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_snoozes_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_snoozes")),
    )
    op.create_index(op.f("ix_snoozes_until"), "snoozes", ["until"], unique=False)
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shortcut", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["agents.id"], name=op.f("fk_canned_responses_created_by_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_responses")),
        sa.UniqueConstraint("shortcut", name=op.f("uq_canned_responses_shortcut")),
    )
    op.create_table(
        "customer_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("identity_ids", JSON, nullable=False),
        sa.Column("conversation_ids", JSON, nullable=False),
        sa.Column("candidate_ids", JSON, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("undone_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_customer_merges_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["customers.id"], name=op.f("fk_customer_merges_source_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["customers.id"], name=op.f("fk_customer_merges_target_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_merges")),
    )
    op.create_index(
        op.f("ix_customer_merges_source_id"), "customer_merges", ["source_id"], unique=False
    )
    op.create_index(
        op.f("ix_customer_merges_target_id"), "customer_merges", ["target_id"], unique=False
    )
    for name, columns in INBOX_INDEXES.items():
        op.create_index(name, "conversations", columns, unique=False)
    statements = SQLITE_FTS if op.get_bind().dialect.name == "sqlite" else POSTGRES_FTS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("messages_fts_ai", "messages_fts_ad", "messages_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS messages_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_messages_search")
    for name in INBOX_INDEXES:
        op.drop_index(name, table_name="conversations")
    for table in (
        "customer_merges",
        "canned_responses",
        "snoozes",
        "mentions",
        "conversation_tags",
        "ui_sessions",
        "events",
    ):
        op.drop_table(table)

"""who wrote last on each conversation (kept by triggers on messages), for the live view's
figures as index counts and the inbox preview of the customer's last message; messages by
identity and time (the mail loop check on every acknowledgement)

Revision ID: 0021_last_party
Revises: 0020_admin_audit
Create Date: 2026-12-03

``conversations.last_party`` is "customer" or "agent": the author of the conversation's newest
message that counts (a customer's message, or an agent's reply that is not automated and whose
delivery did not fail; bot and automated messages, notes and events do not count), with
``last_party_message_id`` that message. ``last_customer_message_id`` is the customer's newest
message. Triggers on ``messages`` keep the three whatever writes a message (ingest, bulk ingest,
agent replies, automated messages, delivery outcomes, merges): an insert that counts moves them
forward (never back: the id guard keeps the newest under concurrent writers); a delivery that
fails or stops failing, a message moved to another conversation or deleted recomputes them
from the conversation's messages.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_last_party"
down_revision = "0020_admin_audit"
branch_labels = None
depends_on = "0016_presence"  # ix_conversations_live is replaced here

# Built from constants only (no input reaches these statements); ``NOT automated`` reads the
# same on SQLite (0/1) and PostgreSQL (boolean).
COUNTS = (
    "(m.direction = 'inbound' OR (m.direction = 'outbound' AND m.author_agent_id IS NOT NULL"
    " AND NOT m.automated AND m.delivery_state <> 'failed'))"
)
NEW_COUNTS = COUNTS.replace("m.", "NEW.")


def _recompute(where: str) -> str:
    """An UPDATE setting the three columns from the messages of the conversations ``where``."""
    newest = (
        "(SELECT {column} FROM messages m WHERE m.conversation_id = conversations.id AND "  # noqa: S608
        + COUNTS
        + " ORDER BY m.id DESC LIMIT 1)"
    )
    party = newest.format(column="CASE m.direction WHEN 'inbound' THEN 'customer' ELSE 'agent' END")
    return (
        f"UPDATE conversations SET last_party = {party}, "  # noqa: S608
        f"last_party_message_id = {newest.format(column='m.id')}, "
        "last_customer_message_id = (SELECT max(m.id) FROM messages m "
        "WHERE m.conversation_id = conversations.id AND m.direction = 'inbound') "
        f"WHERE {where}"
    )


def _forward() -> str:
    """An UPDATE moving the columns forward for the inserted message NEW (when it counts)."""
    return (
        "UPDATE conversations SET "  # noqa: S608
        "last_party = CASE NEW.direction WHEN 'inbound' THEN 'customer' ELSE 'agent' END, "
        "last_party_message_id = NEW.id, "
        "last_customer_message_id = CASE NEW.direction WHEN 'inbound' THEN NEW.id "
        "ELSE last_customer_message_id END "
        "WHERE id = NEW.conversation_id AND coalesce(last_party_message_id, 0) < NEW.id AND "
        + NEW_COUNTS
    )


CHANGED = (
    "(OLD.delivery_state = 'failed') <> (NEW.delivery_state = 'failed') "
    "OR OLD.conversation_id <> NEW.conversation_id"
)
SQLITE = (
    f"CREATE TRIGGER messages_party_ai AFTER INSERT ON messages BEGIN {_forward()}; END",
    "CREATE TRIGGER messages_party_au AFTER UPDATE OF delivery_state, conversation_id "
    f"ON messages WHEN {CHANGED} BEGIN "
    + _recompute("id IN (OLD.conversation_id, NEW.conversation_id)")
    + "; END",
    "CREATE TRIGGER messages_party_ad AFTER DELETE ON messages BEGIN "
    + _recompute("id = OLD.conversation_id")
    + "; END",
)
POSTGRES = (
    "CREATE FUNCTION messages_party_ai() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"{_forward()}; RETURN NULL; END $$",
    "CREATE FUNCTION messages_party_au() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF {CHANGED} THEN "
    + _recompute("id IN (OLD.conversation_id, NEW.conversation_id)")
    + "; END IF; RETURN NULL; END $$",
    "CREATE FUNCTION messages_party_ad() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    + _recompute("id = OLD.conversation_id")
    + "; RETURN NULL; END $$",
    "CREATE TRIGGER messages_party_ai AFTER INSERT ON messages "
    "FOR EACH ROW EXECUTE FUNCTION messages_party_ai()",
    "CREATE TRIGGER messages_party_au AFTER UPDATE OF delivery_state, conversation_id "
    "ON messages FOR EACH ROW EXECUTE FUNCTION messages_party_au()",
    "CREATE TRIGGER messages_party_ad AFTER DELETE ON messages "
    "FOR EACH ROW EXECUTE FUNCTION messages_party_ad()",
)
LIVE_BEFORE = ["status", "team_id", "channel", "assignee_id", "sla_due_at", "last_inbound_at", "id"]
LIVE_AFTER = [
    "status",
    "team_id",
    "channel",
    "last_party",
    "assignee_id",
    "sla_due_at",
    "last_inbound_at",
    "id",
]
WAITING = ["status", "last_party", "last_inbound_at", "id"]


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("last_party", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("last_party_message_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_customer_message_id", sa.Integer(), nullable=True))
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(_recompute("1 = 1"))
    for statement in SQLITE if sqlite else POSTGRES:
        op.execute(statement)
    op.drop_index("ix_conversations_live", table_name="conversations")
    op.create_index("ix_conversations_live", "conversations", LIVE_AFTER)
    op.create_index("ix_conversations_waiting_us", "conversations", WAITING)
    # hub/email/loops.py counts an address's automatic replies of the last hour before every
    # acknowledgement: without this it read the whole message log (0.5 s at 1M messages).
    op.create_index("ix_messages_identity", "messages", ["identity_id", "created_at"])


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in ("messages_party_ai", "messages_party_au", "messages_party_ad"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else " ON messages"))
        if not sqlite:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_messages_identity", table_name="messages")
    op.drop_index("ix_conversations_waiting_us", table_name="conversations")
    op.drop_index("ix_conversations_live", table_name="conversations")
    op.create_index("ix_conversations_live", "conversations", LIVE_BEFORE)
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("last_customer_message_id")
        batch.drop_column("last_party_message_id")
        batch.drop_column("last_party")

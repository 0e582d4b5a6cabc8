"""Tables of the agent inbox: the persisted event log (live updates and replay), browser
sessions, conversation tags, @mentions, snoozes, canned responses and customer merges (undoable)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, orm_insert_sentinel, synonym

from hub.db.base import Base, JSONType
from hub.db.models import Conversation
from hub.db.queue_columns import QueuedWork


class Event(Base):
    """Something an open inbox should learn about. Ids are the SSE event ids."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Lets SQLAlchemy insert a batch of events in one statement on SQLite too.
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    kind: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[int | None] = mapped_column(Integer)
    # Who may learn of it: members of these teams, these agents, and everyone who sees all.
    team_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    agent_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(index=True)


class UiSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "ui_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # What the agent's session list shows (added by migration 0022_signin).
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    client_address: Mapped[str] = mapped_column(String(64), default="")


class ConversationTag(Base):
    __tablename__ = "conversation_tags"
    __table_args__ = (Index("ix_conversation_tags_tag", "tag", "conversation_id"),)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class Mention(Base):
    __tablename__ = "mentions"
    __table_args__ = (Index("ix_mentions_agent", "agent_id", "conversation_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime]


class Snooze(QueuedWork, Base):
    """A snoozed conversation wakes up (back to open) at ``until``, a wake-up on the job queue;
    ``state``: pending, then woken."""

    __tablename__ = "snoozes"
    __table_args__ = (Index("ix_snoozes_due", "state", "until"),)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    next_attempt_at: Mapped[datetime] = mapped_column("until")
    until: Mapped[datetime] = synonym("next_attempt_at")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))


class CannedResponse(Base):
    __tablename__ = "canned_responses"
    id: Mapped[int] = mapped_column(primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime]


class CustomerMerge(Base):
    """One merge of ``source`` into ``target``, with what moved, so it can be undone."""

    __tablename__ = "customer_merges"
    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    identity_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    conversation_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    candidate_ids: Mapped[list[int]] = mapped_column(JSONType, default=list)
    # the survivor's fields before the merge and the widget visitors moved (0026_merge_details)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime]
    undone_at: Mapped[datetime | None]


# The conversation indexes the inbox list scans (created by migration 0003_inbox).
INBOX_INDEXES: dict[str, tuple[str, ...]] = {
    "ix_inbox_status_waiting": ("status", "last_inbound_at", "id"),
    "ix_inbox_assignee_waiting": ("assignee_id", "status", "last_inbound_at", "id"),
    "ix_inbox_team_waiting": ("team_id", "status", "last_inbound_at", "id"),
    "ix_inbox_status_activity": ("status", "last_activity_at", "id"),
    "ix_inbox_waiting": ("last_inbound_at", "id"),
}
# The indexes of the SLA-due sort and filter (created by migration 0007_sla_due): per status,
# assignee and team, the conversations in due order; NULL (no deadline) rows come last.
SLA_INDEXES: dict[str, tuple[str, ...]] = {
    "ix_inbox_status_sla": ("status", "sla_due_at", "id"),
    "ix_inbox_assignee_sla": ("assignee_id", "status", "sla_due_at", "id"),
    "ix_inbox_team_sla": ("team_id", "status", "sla_due_at", "id"),
    "ix_inbox_sla": ("sla_due_at", "id"),
}
_table = cast(Table, Conversation.__table__)
for _name, _columns in {**INBOX_INDEXES, **SLA_INDEXES}.items():
    if _name not in {index.name for index in _table.indexes}:
        Index(_name, *(_table.c[column] for column in _columns))

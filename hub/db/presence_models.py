"""Tables of agents' presence and activity: the spans an agent spent online or away (so "time
online" per agent and period can be summed), the agent's last request and last open live page
(from which presence is derived), and every assignment of a conversation to an agent (the live
view's "assigned today")."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Boolean, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base
from hub.db.models import Conversation, Message


class PresenceSpan(Base):
    """One stretch of ``presence`` (online or away; offline is the absence of a span);
    ``ended_at`` is NULL while it lasts."""

    __tablename__ = "presence_spans"
    __table_args__ = (
        Index("ix_presence_spans_agent", "agent_id", "started_at"),
        Index("ix_presence_spans_open", "ended_at", "agent_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    presence: Mapped[str] = mapped_column(String(7))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class AgentActivity(Base):
    """When the agent last made a request and last had a live page open; ``chosen`` is set
    when the agent picked away or offline by hand (then activity does not bring them back)."""

    __tablename__ = "agent_activity"
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    last_request_at: Mapped[datetime]
    last_stream_at: Mapped[datetime | None]
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)


class AgentAssignment(Base):
    """A conversation was given to an agent (by routing, a supervisor, or the agent)."""

    __tablename__ = "agent_assignments"
    __table_args__ = (Index("ix_agent_assignments_agent", "agent_id", "assigned_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    assigned_at: Mapped[datetime]


# When each agent last replied (the live view's "last reply"), and the live figures read from
# an index alone (the open conversations' team, channel, who wrote last, assignee and
# deadlines): created by migration 0016, who wrote last added by 0021.
_messages = cast(Table, Message.__table__)
if "ix_messages_author" not in {index.name for index in _messages.indexes}:
    Index("ix_messages_author", _messages.c.author_agent_id, _messages.c.created_at)
LIVE_COLUMNS = (
    "status",
    "team_id",
    "channel",
    "last_party",
    "assignee_id",
    "sla_due_at",
    "last_inbound_at",
    "id",
)
_conversations = cast(Table, Conversation.__table__)
if "ix_conversations_live" not in {index.name for index in _conversations.indexes}:
    Index("ix_conversations_live", *(_conversations.c[name] for name in LIVE_COLUMNS))
# The "waiting for us" list, longest wait first, walks this one (migration 0021).
WAITING_COLUMNS = ("status", "last_party", "last_inbound_at", "id")
if "ix_conversations_waiting_us" not in {index.name for index in _conversations.indexes}:
    Index("ix_conversations_waiting_us", *(_conversations.c[name] for name in WAITING_COLUMNS))

"""Tables of the routing engine: editable rules, per-conversation routing state, SLA clocks and
their recorded warnings and breaches, persisted jobs, admin-saved follow-up templates, notices
for admins, satisfaction answers and the FAQ bot's knowledge base."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, orm_insert_sentinel

from hub.db.base import Base, JSONType
from hub.db.queue_columns import QueuedWork


class RoutingRuleset(Base):
    """The rules as last saved through the API (one row); absent: the config file's rules."""

    __tablename__ = "routing_rulesets"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    updated_at: Mapped[datetime]


class ConversationRouting(Base):
    __tablename__ = "conversation_routing"
    __table_args__ = (Index("ix_conversation_routing_queue", "queued_at", "conversation_id"),)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    rule: Mapped[str | None] = mapped_column(String(200))
    strategy: Mapped[str] = mapped_column(String(16), default="round_robin")
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    queued_at: Mapped[datetime | None]
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    assigned_at: Mapped[datetime | None]
    bot: Mapped[str | None] = mapped_column(String(64))
    bot_active: Mapped[bool] = mapped_column(Boolean, default=False)
    spam: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class SlaClock(Base):
    """Facts about one conversation's SLA (start, pauses, replies) and the due times computed
    from them with the policy's calendar; ``dirty`` asks for the due times to be recomputed."""

    __tablename__ = "sla_clocks"
    __table_args__ = (
        Index("ix_sla_clocks_dirty", "dirty"),
        Index("ix_sla_clocks_alert_at", "alert_at"),
    )
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    policy: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    pauses: Mapped[list[list[str | None]]] = mapped_column(JSONType, default=list)
    awaiting_since: Mapped[datetime | None]
    first_responded_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    first_due_at: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    dirty: Mapped[bool] = mapped_column(Boolean, default=True)
    # The next time the sweep has something to do (a warning or breach not yet recorded);
    # None when nothing is due. Set with the due times and after each look by the sweep.
    alert_at: Mapped[datetime | None]


class SlaEvent(Base):
    """A warning before, or a breach of, one SLA target: recorded once, kept for reports."""

    __tablename__ = "sla_events"
    __table_args__ = (
        UniqueConstraint("conversation_id", "metric", "kind", "due_at"),
        Index("ix_sla_events_kind_time", "kind", "occurred_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    metric: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))
    policy: Mapped[str] = mapped_column(String(200))
    priority: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    due_at: Mapped[datetime]
    occurred_at: Mapped[datetime]
    _sentinel: Mapped[int | None] = orm_insert_sentinel()  # a sweep's events in one insert


class Job(QueuedWork, Base):
    """A persisted unit of delayed work (a follow-up, a bot call); ``dedupe_key`` makes
    scheduling idempotent, the queue's lease makes running it happen once. ``state``: pending,
    done, skipped or failed; ``outcome`` says what it did."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    dedupe_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    _sentinel: Mapped[int | None] = orm_insert_sentinel()  # jobs scheduled together
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(9), default="pending")
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class FollowupTemplate(Base):
    __tablename__ = "followup_templates"
    __table_args__ = (UniqueConstraint("name", "channel", "locale", "part"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(64), default="")
    locale: Mapped[str] = mapped_column(String(35), default="")
    part: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(Text)
    saved_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    updated_at: Mapped[datetime]


_UNREAD = text("read_at IS NULL")


class AdminNotice(Base):
    """Something a staff member must see (a template that failed, an SLA escalation);
    ``agent_id`` NULL means every admin. ``read_at``: when the addressee read a notice of
    their own (the unread ones are counted through a partial index, so the navigation's count
    costs what is unread, not the years of notices read); each admin's reading of a notice
    for every admin is a ``notice_reads`` row."""

    __tablename__ = "admin_notices"
    __table_args__ = (
        Index(
            "ix_admin_notices_unread", "agent_id", sqlite_where=_UNREAD, postgresql_where=_UNREAD
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    _sentinel: Mapped[int | None] = orm_insert_sentinel()  # a group of notices in one insert


class CsatResponse(Base):
    __tablename__ = "csat_responses"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), unique=True)
    score: Mapped[int] = mapped_column(Integer)
    via: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]


class FaqEntry(Base):
    __tablename__ = "faq_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(35), default="")
    created_at: Mapped[datetime]

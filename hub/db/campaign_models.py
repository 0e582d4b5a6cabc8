"""What marketers work with: consent per customer identity (and its history), saved segments
(with the members a CSV import put there), campaigns and their per-recipient rows.

A campaign's recipients are fixed when it is sent, in one ``INSERT … SELECT`` into
``campaign_recipients``; each row then moves through ``pending`` (queued) → ``sending``
(committed before the provider is called) → ``sent`` / ``failed`` / ``skipped`` /
``unconfirmed`` (in flight when a process died: never silently counted as sent or dropped)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, JSONType
from hub.db.queue_columns import QueuedWork


class ConsentState(StrEnum):
    GRANTED = "granted"
    REVOKED = "revoked"  # the customer opted out (unsubscribe link, STOP, preference page, agent)
    SUPPRESSED = "suppressed"  # the hub stopped using it (hard bounce, repeated soft bounces)


class ConsentSource(StrEnum):
    FORM = "form"
    IMPORT = "import"
    API = "api"
    AGENT = "agent"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"
    STOP_WORD = "stop_word"
    BOUNCE = "bounce"
    ERASURE = "erasure"  # the customer's personal data was erased (hub/crm/erasure.py)


class CampaignState(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    FINISHED = "finished"


class RecipientState(StrEnum):
    QUEUED = "pending"  # the work-queue state name: claimable
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNCONFIRMED = "unconfirmed"
    CANCELLED = "cancelled"


def _enum(cls: type[StrEnum]) -> String:
    return String(max(len(member.value) for member in cls))


class Consent(Base):
    """The current consent of one identity (one row per identity; no row: never asked)."""

    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # the identity's kind: email, telegram, ...
    state: Mapped[str] = mapped_column(_enum(ConsentState))
    source: Mapped[str] = mapped_column(_enum(ConsentSource))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    changed_at: Mapped[datetime]


class ConsentChange(Base):
    """Every change of consent, oldest first: what the profile shows as history."""

    __tablename__ = "consent_history"
    __table_args__ = (Index("ix_consent_history_customer", "customer_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(_enum(ConsentState))
    source: Mapped[str] = mapped_column(_enum(ConsentSource))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]


class Segment(Base):
    """A saved, named audience: a filter in the customer filter language
    (``hub.core.customer_filters``). Static members (a CSV import) are in ``segment_members``
    and are selected by a ``{"field": "segment", "op": "in", "value": [id]}`` condition."""

    __tablename__ = "segments"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    origin: Mapped[str] = mapped_column(String(32), default="marketer")  # marketer, insight, import
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SegmentMember(Base):
    __tablename__ = "segment_members"
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id"), primary_key=True, index=True
    )
    added_at: Mapped[datetime]


class Campaign(Base):
    """``content``: one variant per channel, e.g. ``{"email": {"subject", "html", "text"},
    "chat": {"text"}}``; ``fallback``: channel kinds in the order tried when the customer's
    preferred channel has no consent."""

    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(_enum(CampaignState), default=CampaignState.DRAFT)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id"))
    fallback: Mapped[list[str]] = mapped_column(JSONType, default=list)
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    scheduled_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CampaignRecipient(QueuedWork, Base):
    """One customer of one send (unique per campaign: nobody gets a campaign twice). The queue
    columns let the one work queue claim rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL)."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id"),
        Index("ix_campaign_recipients_due", "campaign_id", "state", "next_attempt_at"),
        Index("ix_campaign_recipients_customer", "customer_id", "sent_at"),
        Index("ix_campaign_recipients_message", "message_ref"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    channel: Mapped[str | None] = mapped_column(String(64))  # the hub channel name used
    skip_reason: Mapped[str | None] = mapped_column(String(64))
    message_ref: Mapped[str | None] = mapped_column(String(500))  # provider id / Message-ID
    queued_at: Mapped[datetime]
    sending_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    reply_conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    unsubscribed_at: Mapped[datetime | None]
    bounced_at: Mapped[datetime | None]

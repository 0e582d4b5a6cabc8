"""Tables of outgoing webhooks: subscriptions (where to, which events, the signing secret, the
cursor over the event log, the failure streak), the deliveries owed to them (a work queue: one
row per subscription and event, with the exact body sent), and the log of every attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, orm_insert_sentinel

from hub.db.base import Base, JSONType
from hub.db.queue_columns import QueuedWork


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    secret: Mapped[str] = mapped_column(String(128))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Every event log row up to this id was turned into deliveries (or did not concern it).
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    failure_streak: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookDelivery(QueuedWork, Base):
    """One event owed to one subscription; ``state``: pending, delivered, failed (given up),
    skipped (the subscription was disabled first). Its id is ``X-Relaydesk-Delivery``."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "dedupe"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_log", "subscription_id", "id"),
        Index("ix_webhook_deliveries_conversation", "conversation_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Lets SQLAlchemy insert a pass's deliveries in one statement on SQLite too.
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    event: Mapped[str] = mapped_column(String(48))
    event_id: Mapped[int | None] = mapped_column(Integer)  # the event log row (None: a test)
    dedupe: Mapped[str] = mapped_column(String(100))
    conversation_id: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    redeliveries: Mapped[int] = mapped_column(Integer, default=0)  # an admin's redeliver
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(index=True)


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery, as the delivery log shows it."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_delivery", "delivery_id", "id"),
        Index("ix_webhook_attempts_subscription", "subscription_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # ok, error, timeout
    http_status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str | None] = mapped_column(String(500))
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]

"""Shapes of the admin webhook API: subscriptions, their delivery log and its attempts."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from hub.web.api.models.common import (
    Answer,
    Names,
    Params,
    PathId,
    Reading,
    Timestamp,
    WholeNumber,
    whole_range,
)
from hub.web.requests import MAX_ID

EventName = Annotated[str, Field(max_length=48)]
Events = Annotated[list[EventName], Field(min_length=1, max_length=20)]
Url = Annotated[str, Field(min_length=1, max_length=500)]
Name = Annotated[str, Field(min_length=1, max_length=100)]


class SubscriptionId(Params):
    id: Annotated[PathId, Names("webhook subscription"), Field(description="subscription id")]


class DeliveryId(Params):
    id: Annotated[PathId, Names("webhook subscription"), Field(description="subscription id")]
    delivery_id: Annotated[PathId, Names("webhook delivery"), Field(description="delivery id")]


class NewSubscription(Reading):
    name: Name
    url: Url = Field(description="http:// or https:// URL the events are POSTed to")
    events: Events = Field(description="event names (GET /api/v1/admin/webhooks/events)")


class SubscriptionChange(Reading):
    name: Name | SkipJsonSchema[None] = None
    url: Url | SkipJsonSchema[None] = None
    events: Events | SkipJsonSchema[None] = None
    enabled: bool | SkipJsonSchema[None] = None


class Subscription(Answer):
    id: int
    name: str
    url: str
    events: list[str]
    enabled: bool
    failure_streak: int
    failing_since: Timestamp | None
    disabled_at: Timestamp | None
    disabled_reason: str | None
    created_at: Timestamp


class SubscriptionCreated(Subscription):
    secret: str = Field(description="the signing secret, shown only now")


class Subscriptions(Answer):
    items: list[Subscription]


class SubscriptionDeleted(Answer):
    id: int
    name: str
    pending_dropped: int = Field(description="deliveries still owed: none of them is sent")
    deliveries_removed: int = Field(description="deliveries deleted with the log, sent or not")


class EventKind(Answer):
    name: str
    description: str


class EventKinds(Answer):
    version: int
    items: list[EventKind]


class Attempt(Answer):
    id: int
    attempt: int
    outcome: str
    http_status: int | None
    duration_ms: int
    response_excerpt: str
    error: str | None
    manual: bool
    created_at: Timestamp


class Delivery(Answer):
    id: int
    event: str
    payload_id: str = Field(description="the body's id: the same on every retry or redelivery")
    conversation_id: int | None
    state: str = Field(description="pending, delivered, failed (given up) or skipped")
    attempts: int
    next_attempt_at: Timestamp
    last_status: int | None
    last_error: str | None
    delivered_at: Timestamp | None
    created_at: Timestamp
    body: str
    tries: list[Attempt]


class Deliveries(Answer):
    items: list[Delivery]


class DeliveryQuery(Params):
    before: Annotated[int, Field(ge=0, le=MAX_ID), WholeNumber, whole_range(0, MAX_ID)] = Field(
        0, description="only deliveries with a smaller id (0: from the newest)"
    )
    limit: Annotated[int, Field(ge=1, le=200), WholeNumber, whole_range(1, 200)] = Field(
        50, description="page size"
    )

"""The bodies of webhook deliveries (version 1, docs/webhooks.md)::

    {"id": "...", "event": "...", "version": 1, "created_at": "...", "data": {...}}

``id`` is the same for every delivery of one change (to any subscription, on any retry or
redelivery): receivers use it to drop duplicates. ``data`` carries ids and the business fields
a receiver acts on (the conversation's state, a message's text); customers' contact details are
never sent: a receiver that needs them reads them through the API with its own token. The body
is built once, when the delivery is owed, and sent byte for byte on every attempt."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.inbox_models import ConversationTag, Event
from hub.db.models import Conversation, Direction, Message, Ticket
from hub.db.routing_models import CsatResponse
from hub.integrations.catalog import PING, VERSION, Raised
from hub.integrations.texts import TEST_MESSAGE

PREVIOUS = {
    "status": "previous_status",
    "assignee_id": "assigned_from",
    "priority": "previous_priority",
}


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def envelope(ident: str, event: str, at: datetime, data: dict[str, Any]) -> str:
    body = {"id": ident, "event": event, "version": VERSION, "created_at": _when(at), "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


async def tags_of(session: AsyncSession, conversation_ids: set[int]) -> dict[int, list[str]]:
    """The tags of these conversations, in one read."""
    found: dict[int, list[str]] = {ident: [] for ident in conversation_ids}
    if conversation_ids:
        rows = await session.execute(
            select(ConversationTag.conversation_id, ConversationTag.tag)
            .where(ConversationTag.conversation_id.in_(conversation_ids))
            .order_by(ConversationTag.tag)
        )
        for conversation_id, tag in rows:
            found[conversation_id].append(tag)
    return found


def conversation_view(conversation: Conversation, tags: list[str]) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "status": str(conversation.status),
        "priority": conversation.priority,
        "channel": conversation.channel,
        "subject": conversation.subject,
        "customer_id": conversation.customer_id,
        "team_id": conversation.team_id,
        "assignee_id": conversation.assignee_id,
        "tags": tags,
        "created_at": _when(conversation.created_at),
        "resolved_at": _when(conversation.resolved_at),
    }


def _ticket_view(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "number": ticket.number,
        "status": str(ticket.status),
        "priority": ticket.priority,
        "first_response_due_at": _when(ticket.first_response_due_at),
        "resolution_due_at": _when(ticket.resolution_due_at),
        "updated_at": _when(ticket.updated_at),
    }


def _message_view(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "direction": str(message.direction),
        "channel": message.channel,
        "subject": message.subject,
        "text": message.text,
        "automated": message.automated,
        "author_agent_id": message.author_agent_id,
        "attachments": [
            {"filename": a.get("filename"), "content_type": a.get("content_type")}
            for a in message.attachments or []
            if isinstance(a, dict)
        ],
        "created_at": _when(message.created_at),
    }


async def event_data(
    session: AsyncSession, row: Event, raised: Raised, views: dict[int, dict[str, Any]]
) -> dict[str, Any] | None:
    """``data`` of the webhook event ``raised`` by log row ``row``; None when what it is about
    is gone (an erased customer's conversation) or is not for integrators (a private note).
    ``views``: the conversations already shown in this pass, by id."""
    if row.conversation_id is None:
        return None
    conversation = await session.get(Conversation, row.conversation_id)
    if conversation is None:
        return None
    payload = dict(row.payload or {})
    if conversation.id not in views:  # one read per conversation and pass
        tags = (await tags_of(session, {conversation.id}))[conversation.id]
        views[conversation.id] = conversation_view(conversation, tags)
    data: dict[str, Any] = {"conversation": views[conversation.id]}
    name = raised.event
    if name == "message.created":
        message = await session.get(Message, int(payload["message_id"]))
        if message is None or message.direction not in (Direction.INBOUND, Direction.OUTBOUND):
            return None
        data["message"] = _message_view(message)
    elif name == "ticket.updated":
        ticket = await session.get(Ticket, int(payload.get("ticket_id") or 0))
        if ticket is None:
            return None
        data["ticket"], data["changed"] = _ticket_view(ticket), list(raised.changed)
    elif name == "csat.received":
        csat = await session.get(CsatResponse, int(payload.get("csat_id") or 0))
        score = payload.get("score") if csat is None else csat.score
        data["csat"] = {"score": score, "via": payload.get("via")}
    elif name == "conversation.handoff":
        keys = ("bot", "reason", "reason_text", "detail", "state")
        data["handoff"] = {key: payload.get(key) for key in keys}
    elif name == "conversation.status_changed":
        data |= {k: payload.get(k) for k in ("status", "previous_status", "actor_id")}
    elif name == "conversation.assigned":
        data["assignee_id"] = payload.get("assigned_to")
        data["previous_assignee_id"] = payload.get("assigned_from")
        data["actor_id"] = payload.get("actor_id")
    elif name == "conversation.updated":
        data["changed"] = list(raised.changed)
        data["previous"] = {
            key: payload[source] for key, source in PREVIOUS.items() if source in payload
        }
        if "actor_id" in payload:
            data["actor_id"] = payload["actor_id"]
    return data


def ping_body(ident: str, subscription_id: int, at: datetime) -> str:
    return envelope(ident, PING, at, {"subscription_id": subscription_id, "message": TEST_MESSAGE})

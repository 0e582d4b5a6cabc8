"""Rows to the JSON shapes the API documents (see openapi.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.db.models import Conversation, Customer, Identity, Message, Ticket


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def conversation_json(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "customer_id": conversation.customer_id,
        "channel": conversation.channel,
        "thread_key": conversation.thread_key,
        "subject": conversation.subject,
        "status": conversation.status,
        "priority": conversation.priority,
        "team_id": conversation.team_id,
        "assignee_id": conversation.assignee_id,
        "created_at": iso(conversation.created_at),
        "first_inbound_at": iso(conversation.first_inbound_at),
        "first_response_at": iso(conversation.first_response_at),
        "last_activity_at": iso(conversation.last_activity_at),
        "resolved_at": iso(conversation.resolved_at),
    }


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "first_response_due_at": iso(ticket.first_response_due_at),
        "resolution_due_at": iso(ticket.resolution_due_at),
    }


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "channel": message.channel,
        "external_id": message.external_id,
        "author_agent_id": message.author_agent_id,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "attachments": message.attachments,
        "automated": message.automated,
        "parse_error": message.parse_error,
        "delivery_state": message.delivery_state,
        "delivery_error": message.delivery_error,
        "created_at": iso(message.created_at),
    }


def identity_json(identity: Identity) -> dict[str, Any]:
    return {
        "id": identity.id,
        "kind": identity.kind,
        "address": identity.address,
        "display_name": identity.display_name,
        "bouncing": identity.bouncing,
    }


def customer_json(customer: Customer, identities: list[Identity]) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "company": customer.company,
        "tier": customer.tier,
        "tags": customer.tags,
        "attributes": customer.attributes,
        "locale": customer.locale,
        "timezone": customer.timezone,
        "preferred_channel": customer.preferred_channel,
        "consent": customer.consent,
        "notes": customer.notes,
        "created_at": iso(customer.created_at),
        "last_contact_at": iso(customer.last_contact_at),
        "identities": [identity_json(identity) for identity in identities],
    }

"""Customers and their history written straight into the database, for CRM tests that need a
directory or a contact history of a known shape (the ingest path is tested elsewhere)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from hub.core.customer_tags import set_tags
from hub.core.customers import name_key
from hub.db.models import Conversation, Customer, Identity, Team, Ticket
from hub.db.routing_models import CsatResponse
from hub.web.keys import Hub

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


async def seed_customer(
    hub: Hub,
    name: str,
    *,
    company: str = "",
    tier: str = "standard",
    tags: Sequence[str] = (),
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    telegram: Sequence[tuple[str, str]] = (),
    attributes: dict[str, Any] | None = None,
    last_contact: datetime | None = None,
    created: datetime = EPOCH,
) -> int:
    async with hub.db.writer() as session:
        customer = Customer(
            name=name,
            name_key=name_key(name),
            company=company,
            tier=tier,
            tags=[],
            attributes=attributes or {},
            consent={},
            created_at=created,
            last_contact_at=last_contact,
        )
        session.add(customer)
        await session.flush()
        await set_tags(session, customer, list(tags))
        addresses = [("email", e) for e in emails] + [("phone", p) for p in phones]
        for kind, address in addresses:
            session.add(
                Identity(customer_id=customer.id, kind=kind, address=address, created_at=created)
            )
        for chat_id, handle in telegram:
            session.add(
                Identity(
                    customer_id=customer.id,
                    kind="telegram",
                    address=chat_id,
                    display_name=handle,
                    created_at=created,
                )
            )
        await session.commit()
        return customer.id


async def seed_conversation(
    hub: Hub,
    customer_id: int,
    at: datetime,
    *,
    team: str = "support",
    channel: str = "mail",
    subject: str = "Help",
    ticket: str | None = "open",
    csat: int | None = None,
) -> int:
    """A conversation started at ``at`` (with a ticket in state ``ticket`` unless None)."""
    async with hub.db.writer() as session:
        team_id = await session.scalar(select(Team.id).where(Team.slug == team))
        conversation = Conversation(
            token=uuid.uuid4().hex,
            customer_id=customer_id,
            channel=channel,
            subject=subject,
            status="open" if ticket in ("open", "pending") else "resolved",
            team_id=team_id,
            created_at=at,
            first_inbound_at=at,
            last_inbound_at=at,
            last_activity_at=at,
        )
        session.add(conversation)
        await session.flush()
        if ticket is not None:
            number = int(await session.scalar(select(func.max(Ticket.number))) or 0) + 1
            session.add(
                Ticket(
                    number=number,
                    conversation_id=conversation.id,
                    subject=subject,
                    status=ticket,
                    created_at=at,
                    updated_at=at,
                )
            )
        if csat is not None:
            session.add(
                CsatResponse(conversation_id=conversation.id, score=csat, via="link", created_at=at)
            )
        customer = await session.get(Customer, customer_id)
        assert customer is not None
        if customer.last_contact_at is None or customer.last_contact_at < at:
            customer.last_contact_at = at
        await session.commit()
        return conversation.id

"""One customer's profile as a viewer may see it: every identity, the cross-channel timeline of
conversations and tickets (the ones the viewer may not open are listed without their content),
satisfaction ratings given, consent per identity, campaign responses, notes and the audit trail
of profile edits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.authz import Principal, can_see_conversation, can_see_customer
from hub.core.consent import ConsentView, consent_of
from hub.core.errors import not_found
from hub.crm.edits import history
from hub.crm.erasure import surviving_customer
from hub.db.campaign_models import Campaign, CampaignRecipient
from hub.db.crm_models import CustomerChange
from hub.db.models import Agent, Conversation, Customer, Identity, Ticket
from hub.db.routing_models import CsatResponse

TIMELINE_LIMIT = 200


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    conversation_id: int
    visible: bool  # the viewer may open it (else subject and ticket subject are withheld)
    channel: str
    status: str
    subject: str
    started_at: datetime
    last_activity_at: datetime
    ticket_number: int | None
    ticket_status: str | None
    ticket_priority: str | None


@dataclass(frozen=True, slots=True)
class Rating:
    conversation_id: int
    score: int
    via: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Change:
    row: CustomerChange
    by: str  # the editor's name, or how the change came (import)


@dataclass(frozen=True, slots=True)
class CampaignResponse:
    campaign_id: int
    campaign: str
    channel: str
    state: str
    replied: bool
    at: datetime | None


@dataclass(frozen=True, slots=True)
class Profile:
    customer: Customer
    identities: list[Identity]
    timeline: list[TimelineEntry]
    ratings: list[Rating]
    changes: list[Change]
    open_tickets: int
    consents: list[ConsentView]
    campaigns: list[CampaignResponse]


async def visible_customer(
    session: AsyncSession, principal: Principal, customer_id: int
) -> Customer:
    """The customer if ``principal`` may see them (404 otherwise, as for conversations); a
    customer merged into another is found as the one they were merged into."""
    customer = await surviving_customer(session, customer_id)
    if customer is None or not await can_see_customer(session, principal, customer.id):
        raise not_found("customer", customer_id)
    return customer


async def identities_of(session: AsyncSession, customer_id: int) -> list[Identity]:
    return list(
        (
            await session.scalars(
                select(Identity)
                .where(Identity.customer_id == customer_id)
                .order_by(Identity.kind, Identity.id)
            )
        ).all()
    )


async def load_profile(session: AsyncSession, principal: Principal, customer_id: int) -> Profile:
    customer = await visible_customer(session, principal, customer_id)
    rows = (
        await session.execute(
            select(Conversation, Ticket)
            .outerjoin(Ticket, Ticket.conversation_id == Conversation.id)
            .where(Conversation.customer_id == customer.id)
            .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
            .limit(TIMELINE_LIMIT)
        )
    ).all()
    timeline = []
    open_tickets = 0
    for conversation, ticket in rows:
        visible = can_see_conversation(principal, conversation)
        if ticket is not None and ticket.status in ("open", "pending"):
            open_tickets += 1
        timeline.append(
            TimelineEntry(
                conversation_id=conversation.id,
                visible=visible,
                channel=conversation.channel,
                status=conversation.status,
                subject=conversation.subject if visible else "",
                started_at=conversation.created_at,
                last_activity_at=conversation.last_activity_at,
                ticket_number=ticket.number if ticket else None,
                ticket_status=ticket.status if ticket else None,
                ticket_priority=ticket.priority if ticket else None,
            )
        )
    ratings = [
        Rating(conversation_id, score, via, created_at)
        for conversation_id, score, via, created_at in (
            await session.execute(
                select(
                    CsatResponse.conversation_id,
                    CsatResponse.score,
                    CsatResponse.via,
                    CsatResponse.created_at,
                )
                .join(Conversation, Conversation.id == CsatResponse.conversation_id)
                .where(Conversation.customer_id == customer.id)
                .order_by(CsatResponse.created_at.desc())
            )
        ).all()
    ]
    changes = await history(session, customer.id)
    editor_ids = {c.agent_id for c in changes if c.agent_id is not None}
    names = (
        dict(
            (
                await session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(editor_ids)))
            ).all()
        )
        if editor_ids
        else {}
    )
    campaigns = [
        CampaignResponse(
            campaign_id=campaign.id,
            campaign=campaign.name,
            channel=recipient.channel or "",
            state=recipient.state,
            replied=recipient.replied_at is not None,
            at=recipient.replied_at or recipient.sent_at or recipient.queued_at,
        )
        for recipient, campaign in (
            await session.execute(
                select(CampaignRecipient, Campaign)
                .join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
                .where(CampaignRecipient.customer_id == customer.id)
                .order_by(CampaignRecipient.queued_at.desc(), CampaignRecipient.id.desc())
                .limit(TIMELINE_LIMIT)
            )
        ).all()
    ]
    return Profile(
        consents=await consent_of(session, customer.id),
        campaigns=campaigns,
        customer=customer,
        identities=await identities_of(session, customer.id),
        timeline=timeline,
        ratings=ratings,
        changes=[Change(c, names.get(c.agent_id, "") if c.agent_id else c.source) for c in changes],
        open_tickets=open_tickets,
    )

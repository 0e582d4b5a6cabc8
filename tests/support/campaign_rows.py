"""Campaign rows made by hand for opt-out, bounce, reply and results tests: customers with
identities and consent, a campaign, and its recipient rows in whatever state a story needs
(the sender's engine writes them the same way: state, channel, identity, message_ref, sent_at)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from hub.campaigns.links import recipient_token
from hub.core.consent import record_consent
from hub.db.campaign_models import (
    Campaign,
    CampaignRecipient,
    Consent,
    ConsentSource,
    ConsentState,
    RecipientState,
)
from hub.db.models import Customer, Identity
from tests.support.desk import Desk


@dataclass(frozen=True)
class Person:
    customer_id: int
    identities: dict[str, int]  # kind -> identity id


async def person(
    desk: Desk,
    name: str,
    *,
    consent: ConsentState | None = ConsentState.GRANTED,
    **addresses: str,
) -> Person:
    """A customer with one identity per keyword (``email="jane@example.com"``,
    ``telegram="5550001"``), each with ``consent`` recorded as given on a form."""
    now = desk.hub.clock.now()
    async with desk.db.writer() as session:
        customer = Customer(
            name=name, created_at=now, tags=[], attributes={}, consent={}, preferred_channel=None
        )
        session.add(customer)
        await session.flush()
        ids: dict[str, int] = {}
        for kind, address in addresses.items():
            identity = Identity(
                customer_id=customer.id,
                kind=kind,
                address=address,
                display_name=name,
                created_at=now,
            )
            session.add(identity)
            await session.flush()
            ids[kind] = identity.id
            if consent is not None:
                await record_consent(session, identity.id, consent, ConsentSource.FORM, now)
        await session.commit()
        return Person(customer.id, ids)


async def campaign(desk: Desk, name: str = "Spring sale") -> int:
    now = desk.hub.clock.now()
    async with desk.db.writer() as session:
        row = Campaign(
            name=name,
            state="sending",
            fallback=[],
            content={},
            created_at=now,
            updated_at=now,
            started_at=now,
        )
        session.add(row)
        await session.commit()
        return row.id


async def recipient(
    desk: Desk,
    campaign_id: int,
    who: Person,
    kind: str | None,
    channel: str | None,
    *,
    state: RecipientState = RecipientState.SENT,
    sent_at: datetime | None = None,
    message_ref: str | None = None,
    skip_reason: str | None = None,
    error: str | None = None,
    **times: datetime,
) -> int:
    now = desk.hub.clock.now()
    async with desk.db.writer() as session:
        row = CampaignRecipient(
            campaign_id=campaign_id,
            customer_id=who.customer_id,
            identity_id=who.identities[kind] if kind else None,
            channel=channel,
            state=state.value,
            skip_reason=skip_reason,
            last_error=error,
            message_ref=message_ref,
            queued_at=now,
            next_attempt_at=now,
            sent_at=sent_at
            if sent_at is not None
            else (now if state == RecipientState.SENT else None),
            **times,
        )
        session.add(row)
        await session.commit()
        return row.id


def token_for(desk: Desk, recipient_id: int) -> str:
    return recipient_token(desk.settings.secret_key, recipient_id, desk.hub.clock.now())


async def consent_state(desk: Desk, identity_id: int) -> tuple[str | None, str | None]:
    async with desk.db.reader() as session:
        row = (
            await session.execute(
                select(Consent.state, Consent.source).where(Consent.identity_id == identity_id)
            )
        ).first()
    return (row[0], row[1]) if row else (None, None)


async def recipient_row(desk: Desk, recipient_id: int) -> CampaignRecipient:
    async with desk.db.reader() as session:
        row = await session.get(CampaignRecipient, recipient_id)
    assert row is not None
    return row

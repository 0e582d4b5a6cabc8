"""Consent per customer identity: the current state, its history, and who may be messaged.

A campaign reaches an identity only while its consent is ``granted``. Opting out (``revoked``)
and suppression (``suppressed``: hard bounces, repeated soft bounces) take effect for every
later send, a running one included, because senders check consent again before each message."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.errors import not_found
from hub.db.campaign_models import Consent, ConsentChange, ConsentSource, ConsentState
from hub.db.models import Customer, Identity


@dataclass(frozen=True, slots=True)
class ConsentView:
    """One identity's consent as the profile shows it."""

    identity_id: int
    kind: str
    address: str
    state: ConsentState | None  # None: never asked
    source: ConsentSource | None
    changed_at: datetime | None


async def record_consent(
    session: AsyncSession,
    identity_id: int,
    state: ConsentState,
    source: ConsentSource,
    now: datetime,
    *,
    agent_id: int | None = None,
    campaign_id: int | None = None,
    note: str = "",
) -> Consent:
    """Set one identity's consent and append the change to its history (in the caller's
    transaction). Recording the state it already has changes nothing and adds no history."""
    identity = await session.get(Identity, identity_id)
    if identity is None:
        raise not_found("identity", identity_id)
    current = await session.scalar(select(Consent).where(Consent.identity_id == identity_id))
    if current is not None and current.state == state:
        return current
    if current is None:
        current = Consent(identity_id=identity_id, customer_id=identity.customer_id)
        session.add(current)
    current.customer_id = identity.customer_id
    current.kind = identity.kind
    current.state = state
    current.source = source
    current.agent_id = agent_id
    current.note = note
    current.changed_at = now
    session.add(
        ConsentChange(
            identity_id=identity_id,
            customer_id=identity.customer_id,
            kind=identity.kind,
            state=state,
            source=source,
            agent_id=agent_id,
            campaign_id=campaign_id,
            note=note,
            created_at=now,
        )
    )
    await session.flush()
    return current


async def consent_of(session: AsyncSession, customer_id: int) -> list[ConsentView]:
    """Every identity of the customer with its consent, in identity order."""
    rows = await session.execute(
        select(Identity, Consent)
        .outerjoin(Consent, Consent.identity_id == Identity.id)
        .where(Identity.customer_id == customer_id)
        .order_by(Identity.id)
    )
    return [
        ConsentView(
            identity_id=identity.id,
            kind=identity.kind,
            address=identity.address,
            state=ConsentState(consent.state) if consent else None,
            source=ConsentSource(consent.source) if consent else None,
            changed_at=consent.changed_at if consent else None,
        )
        for identity, consent in rows
    ]


async def history_of(session: AsyncSession, customer_id: int) -> list[ConsentChange]:
    rows = await session.scalars(
        select(ConsentChange)
        .where(ConsentChange.customer_id == customer_id)
        .order_by(ConsentChange.id)
    )
    return list(rows)


def granted_on(kinds: Iterable[str] | None = None) -> ColumnElement[bool]:
    """SQL condition over ``Customer``: some identity (of one of ``kinds``, if given) has
    granted consent."""
    condition = and_(Consent.customer_id == Customer.id, Consent.state == ConsentState.GRANTED)
    if kinds is not None:
        condition = and_(condition, Consent.kind.in_(list(kinds)))
    return exists().where(condition)


async def may_message(session: AsyncSession, identity_id: int) -> bool:
    """Whether a campaign may reach this identity now (checked again right before sending)."""
    state = await session.scalar(select(Consent.state).where(Consent.identity_id == identity_id))
    return state == ConsentState.GRANTED

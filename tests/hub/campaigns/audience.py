"""Customers with identities and consent, and segments, written straight into the database the
way the audience pages and imports leave them (the stories here are about sending)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.core.authz import Principal
from hub.core.consent import record_consent
from hub.core.customer_tags import set_tags
from hub.db.campaign_models import ConsentSource, ConsentState, Segment
from hub.db.models import Customer, Identity, Role
from hub.platform.database import Database


@dataclass(frozen=True, slots=True)
class Person:
    customer_id: int
    identities: Mapping[str, int]  # kind -> identity id


async def add_person(
    db: Database,
    now: datetime,
    name: str,
    identities: Mapping[str, str],
    *,
    consent: Mapping[str, ConsentState] | None = None,
    tier: str = "standard",
    tags: tuple[str, ...] = ("newsletter",),
    preferred: str | None = None,
    timezone: str = "UTC",
    attributes: Mapping[str, Any] | None = None,
) -> Person:
    """A customer with identities (kind -> address) and consent per kind (default: granted on
    every identity)."""
    async with db.writer() as session:
        customer = Customer(
            name=name,
            name_key=name.lower(),
            tier=tier,
            tags=list(tags),
            attributes=dict(attributes or {}),
            consent={},
            preferred_channel=preferred,
            timezone=timezone,
            created_at=now,
        )
        session.add(customer)
        await session.flush()
        await set_tags(session, customer, list(tags))
        ids: dict[str, int] = {}
        for kind, address in identities.items():
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
        states = consent if consent is not None else dict.fromkeys(identities, ConsentState.GRANTED)
        for kind, state in states.items():
            await record_consent(session, ids[kind], state, ConsentSource.FORM, now)
        await session.commit()
        return Person(customer.id, ids)


async def add_segment(
    db: Database,
    now: datetime,
    name: str = "Newsletter",
    definition: Mapping[str, Any] | None = None,
) -> int:
    async with db.writer() as session:
        segment = Segment(
            name=name,
            definition=dict(definition or {"field": "tag", "op": "has", "value": "newsletter"}),
            created_at=now,
            updated_at=now,
        )
        session.add(segment)
        await session.commit()
        return segment.id


MARKETER = Principal(agent_id=0, role=Role.MARKETER, team_ids=frozenset())
AGENT = Principal(agent_id=0, role=Role.AGENT, team_ids=frozenset())


def marketer(agent_id: int) -> Principal:
    return Principal(agent_id=agent_id, role=Role.MARKETER, team_ids=frozenset())

"""Recording consent where it is given: by staff (the API and the profile: marketers and admins
record it as ``api``, agents and supervisors as ``agent``, what a customer told them), by the
public contact form's "send me news" box (``form``) and by CSV imports (``import``, in bulk).

One identity's change goes through ``hub.core.consent.record_consent``; ``record_many`` does the
same for thousands of identities with a few set-based statements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns import audience_texts as texts
from hub.core.authz import Principal, can_see_customer
from hub.core.consent import record_consent
from hub.core.errors import not_found
from hub.db.campaign_models import Consent, ConsentChange, ConsentSource, ConsentState
from hub.db.models import Customer, Identity, Role

CHUNK = 500


@dataclass(frozen=True, slots=True)
class Address:
    identity_id: int
    customer_id: int
    kind: str


def source_for(principal: Principal) -> ConsentSource:
    """Marketers and admins record consent from their systems (``api``); agents and
    supervisors record what a customer told them (``agent``)."""
    if principal.role in (Role.MARKETER, Role.ADMIN):
        return ConsentSource.API
    return ConsentSource.AGENT


async def customer_for_consent(
    session: AsyncSession, principal: Principal, customer_id: int
) -> Customer:
    """The customer, if the caller may see it (else 404, as for one that does not exist)."""
    customer = await session.get(Customer, customer_id)
    if customer is None or not await can_see_customer(session, principal, customer_id):
        raise not_found("customer", customer_id)
    return customer


async def record_by_staff(
    session: AsyncSession,
    principal: Principal,
    customer_id: int,
    identity_id: int,
    state: ConsentState,
    now: datetime,
    *,
    note: str = "",
) -> Consent:
    """A staff member records one identity's consent (in the caller's transaction)."""
    await customer_for_consent(session, principal, customer_id)
    identity = await session.get(Identity, identity_id)
    if identity is None or identity.customer_id != customer_id:
        raise texts.consent_identity(identity_id, customer_id)
    return await record_consent(
        session,
        identity_id,
        state,
        source_for(principal),
        now,
        agent_id=principal.agent_id,
        note=note,
    )


async def record_form_consent(
    session: AsyncSession, email: str, now: datetime, *, note: str = ""
) -> Consent | None:
    """The contact form's box was ticked: grant consent on the sender's email identity (the
    form's message, stored just before, created it). None if no such identity exists."""
    identity_id = await session.scalar(
        select(Identity.id).where(Identity.kind == "email", Identity.address == email)
    )
    if identity_id is None:
        return None
    return await record_consent(
        session, identity_id, ConsentState.GRANTED, ConsentSource.FORM, now, note=note
    )


async def record_many(
    session: AsyncSession,
    addresses: Sequence[Address],
    state: ConsentState,
    source: ConsentSource,
    now: datetime,
    *,
    agent_id: int | None = None,
) -> int:
    """Set ``state`` on every address in a few statements; an address that already has it is
    left alone (no history). Returns how many changed."""
    changed = 0
    table = cast(Table, Consent.__table__)
    history_table = cast(Table, ConsentChange.__table__)
    revise = (
        update(table)
        .where(table.c.identity_id == bindparam("target"))
        .values(
            customer_id=bindparam("customer_id"),
            state=bindparam("state"),
            source=bindparam("source"),
            agent_id=bindparam("agent_id"),
            note=bindparam("note"),
            changed_at=bindparam("changed_at"),
        )
    )
    for start in range(0, len(addresses), CHUNK):
        chunk = addresses[start : start + CHUNK]
        current = dict(
            (row[0], row[1])
            for row in await session.execute(
                select(table.c.identity_id, table.c.state).where(
                    table.c.identity_id.in_([a.identity_id for a in chunk])
                )
            )
        )
        fresh: list[dict[str, object]] = []
        revised: list[dict[str, object]] = []
        history: list[dict[str, object]] = []
        for address in chunk:
            known = current.get(address.identity_id)
            if known == state.value:
                continue
            values: dict[str, object] = {
                "customer_id": address.customer_id,
                "state": state.value,
                "source": source.value,
                "agent_id": agent_id,
                "note": "",
            }
            if known is None:
                fresh.append(
                    values
                    | {"identity_id": address.identity_id, "kind": address.kind, "changed_at": now}
                )
                current[address.identity_id] = state.value
            else:
                revised.append(values | {"target": address.identity_id, "changed_at": now})
            history.append(
                values
                | {
                    "identity_id": address.identity_id,
                    "kind": address.kind,
                    "created_at": now,
                    "campaign_id": None,
                }
            )
        if fresh:
            await session.execute(insert(table), fresh)
        if revised:
            await session.execute(revise, revised)
        if history:
            await session.execute(insert(history_table), history)
        changed += len(history)
    return changed

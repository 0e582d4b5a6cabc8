"""Customer records: resolve a sender to a customer by exact identity, create one otherwise, and
record fuzzy duplicate candidates for agents to merge later."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Party
from hub.db.models import Customer, DuplicateCandidate, Identity

CANDIDATE_SCAN_LIMIT = 200


def name_key(name: str) -> str:
    """Lower-case, accent-free, single-spaced name used for blocking fuzzy comparisons."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.lower().split())


@dataclass(frozen=True, slots=True)
class Resolved:
    customer: Customer
    identity: Identity
    created: bool


async def resolve_customer(session: AsyncSession, sender: Party, now: datetime) -> Resolved:
    identity = await session.scalar(
        select(Identity).where(
            Identity.kind == sender.kind.value, Identity.address == sender.address
        )
    )
    if identity is not None:
        customer = await session.get(Customer, identity.customer_id)
        assert customer is not None
        while customer.merged_into_id is not None:
            merged = await session.get(Customer, customer.merged_into_id)
            assert merged is not None
            customer = merged
        if sender.name and not customer.name:
            customer.name = sender.name
            customer.name_key = name_key(sender.name)
        return Resolved(customer, identity, created=False)
    display = sender.name or ""
    customer = Customer(
        name=display,
        name_key=name_key(display),
        preferred_channel=None,
        created_at=now,
        tags=[],
        attributes={},
        consent={},
    )
    identity = Identity(
        kind=sender.kind.value, address=sender.address, display_name=display, created_at=now
    )
    session.add(customer)
    await session.flush()
    identity.customer_id = customer.id
    session.add(identity)
    return Resolved(customer, identity, created=True)


def _email_local(address: str) -> str:
    return address.partition("@")[0] if "@" in address else ""


async def record_duplicate_candidates(
    session: AsyncSession, customer: Customer, identity: Identity, threshold: float, now: datetime
) -> list[DuplicateCandidate]:
    """Compare a new customer against plausible existing ones (same name prefix, or the same
    mailbox name at another domain) and keep those scoring at least ``threshold``."""
    key = customer.name_key
    local = _email_local(identity.address)
    scores: dict[int, tuple[float, str]] = {}
    if len(key) >= 3:
        rows = await session.execute(
            select(Customer.id, Customer.name_key)
            .where(
                Customer.name_key.startswith(key[:3], autoescape=True),
                Customer.id != customer.id,
                Customer.merged_into_id.is_(None),
            )
            .limit(CANDIDATE_SCAN_LIMIT)
        )
        for other_id, other_key in rows:
            score = fuzz.token_sort_ratio(key, other_key)
            if score >= threshold:
                scores[other_id] = (score, "similar name")
    if len(local) >= 4:
        rows = await session.execute(
            select(Identity.customer_id, Identity.address)
            .where(
                Identity.address.startswith(local + "@", autoescape=True),
                Identity.customer_id != customer.id,
            )
            .limit(CANDIDATE_SCAN_LIMIT)
        )
        for other_id, _address in rows:
            best = scores.get(other_id, (0.0, ""))
            scores[other_id] = (max(best[0], 90.0), "same mailbox name at another domain")
    found = []
    for other_id, (score, reason) in scores.items():
        candidate = DuplicateCandidate(
            customer_id=customer.id,
            candidate_id=other_id,
            score=round(score, 1),
            reason=reason,
            created_at=now,
        )
        session.add(candidate)
        found.append(candidate)
    return found

"""Merging two records of one customer, and undoing it. The agent chooses which record survives
(by default the one with more history: conversations, then messages, then the older record); the
other points at it. Nothing is lost: identities (with their consent rows), conversations and
widget visitors move to the survivor; the survivor keeps its own name, company, tier,
attributes and consent and takes the other's where it has none; a value both have and that
differs is kept under ``<key>.from_<id>``; tags are the union. The merge row records what moved
and the survivor's fields as they were, so undo restores exactly what was there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.customer_tags import set_tags
from hub.core.errors import ui_conflict
from hub.db.campaign_models import Consent, ConsentChange
from hub.db.inbox_models import CustomerMerge
from hub.db.models import Conversation, Customer, DuplicateCandidate, Identity, Message
from hub.db.widget_models import WidgetVisitor

# The survivor's fields a merge may change, restored as they were by undo.
KEPT = ("name", "name_key", "company", "tier", "tags", "attributes", "consent", "notes")
DEFAULT_TIER = "standard"


async def _move(
    session: AsyncSession,
    identity_ids: list[int],
    conversation_ids: list[int],
    visitor_ids: list[int],
    to: int,
) -> None:
    if identity_ids:
        await session.execute(
            update(Identity).where(Identity.id.in_(identity_ids)).values(customer_id=to)
        )
        for model in (Consent, ConsentChange):
            await session.execute(
                update(model).where(model.identity_id.in_(identity_ids)).values(customer_id=to)
            )
    if conversation_ids:
        await session.execute(
            update(Conversation).where(Conversation.id.in_(conversation_ids)).values(customer_id=to)
        )
        await session.execute(
            update(Message)
            .where(Message.conversation_id.in_(conversation_ids))
            .values(customer_id=to)
        )
    if visitor_ids:
        await session.execute(
            update(WidgetVisitor).where(WidgetVisitor.id.in_(visitor_ids)).values(customer_id=to)
        )


async def history(session: AsyncSession, customer_id: int) -> tuple[int, int]:
    """(conversations, messages) of a customer: how much history the record carries."""
    conversations = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.customer_id == customer_id)
    )
    messages = await session.scalar(
        select(func.count()).select_from(Message).where(Message.customer_id == customer_id)
    )
    return int(conversations or 0), int(messages or 0)


async def default_survivor(session: AsyncSession, first: Customer, second: Customer) -> Customer:
    """The record with more history survives; on a tie, the older one."""

    async def rank(customer: Customer) -> tuple[int, int, int]:
        conversations, messages = await history(session, customer.id)
        return conversations, messages, -customer.id

    return first if await rank(first) >= await rank(second) else second


def _combined(ours: dict[str, Any], theirs: dict[str, Any], other_id: int) -> dict[str, Any]:
    """Our keys as they are, theirs added; a key both have with another value is kept as
    ``<key>.from_<other_id>``."""
    result = dict(ours)
    for key, value in theirs.items():
        if key not in result:
            result[key] = value
        elif result[key] != value:
            result[f"{key}.from_{other_id}"[:64]] = value
    return result


async def _absorb(session: AsyncSession, survivor: Customer, other: Customer) -> None:
    attributes = _combined(dict(survivor.attributes or {}), dict(other.attributes or {}), other.id)
    if other.name and not survivor.name:
        survivor.name, survivor.name_key = other.name, other.name_key
    elif other.name and other.name != survivor.name:
        attributes = _combined(attributes, {"name": other.name}, other.id)
    if other.company and not survivor.company:
        survivor.company = other.company
    elif other.company and other.company != survivor.company:
        attributes = _combined(attributes, {"company": other.company}, other.id)
    if survivor.tier == DEFAULT_TIER and other.tier != DEFAULT_TIER:
        survivor.tier = other.tier
    survivor.attributes = attributes
    survivor.consent = _combined(dict(survivor.consent or {}), dict(other.consent or {}), other.id)
    if other.notes and other.notes not in survivor.notes:
        survivor.notes = f"{survivor.notes}\n\n{other.notes}".strip()
    tags = list(survivor.tags or [])
    await set_tags(session, survivor, tags + [t for t in other.tags or [] if t not in tags])
    if other.last_contact_at and (
        survivor.last_contact_at is None or other.last_contact_at > survivor.last_contact_at
    ):
        survivor.last_contact_at = other.last_contact_at


async def _ids(session: AsyncSession, column: Any, owner: Any, customer_id: int) -> list[int]:
    return list((await session.scalars(select(column).where(owner == customer_id))).all())


async def merge_customers(
    session: AsyncSession,
    first: Customer,
    second: Customer,
    agent_id: int,
    now: datetime,
    survivor_id: int | None = None,
) -> CustomerMerge:
    """Merge two records of one customer. ``survivor_id`` (one of the two) chooses the record
    that stays; without it the one with more history does."""
    if first.id == second.id:
        raise ui_conflict("a customer cannot be merged with itself")
    if first.merged_into_id is not None or second.merged_into_id is not None:
        raise ui_conflict("one of these customers was already merged into another")
    if survivor_id is None:
        survivor = await default_survivor(session, first, second)
    else:
        survivor = first if survivor_id == first.id else second
    other = second if survivor is first else first
    before = {field: getattr(survivor, field) for field in KEPT}
    before["last_contact_at"] = (
        survivor.last_contact_at.isoformat() if survivor.last_contact_at else None
    )
    identity_ids = await _ids(session, Identity.id, Identity.customer_id, other.id)
    conversation_ids = await _ids(session, Conversation.id, Conversation.customer_id, other.id)
    visitor_ids = await _ids(session, WidgetVisitor.id, WidgetVisitor.customer_id, other.id)
    candidates = list(
        (
            await session.scalars(
                select(DuplicateCandidate).where(
                    or_(
                        (DuplicateCandidate.customer_id == other.id)
                        & (DuplicateCandidate.candidate_id == survivor.id),
                        (DuplicateCandidate.customer_id == survivor.id)
                        & (DuplicateCandidate.candidate_id == other.id),
                    )
                )
            )
        ).all()
    )
    await _move(session, identity_ids, conversation_ids, visitor_ids, survivor.id)
    for candidate in candidates:
        candidate.state = "merged"
    await _absorb(session, survivor, other)
    other.merged_into_id = survivor.id
    merge = CustomerMerge(
        target_id=survivor.id,
        source_id=other.id,
        identity_ids=identity_ids,
        conversation_ids=conversation_ids,
        candidate_ids=[c.id for c in candidates],
        details={"survivor_before": before, "visitor_ids": visitor_ids},
        agent_id=agent_id,
        created_at=now,
    )
    session.add(merge)
    await session.flush()
    return merge


async def undo_merge(session: AsyncSession, merge: CustomerMerge, now: datetime) -> None:
    """Put everything back: what moved returns, the survivor's fields are as they were."""
    if merge.undone_at is not None:
        raise ui_conflict("this merge was already undone")
    source = await session.get(Customer, merge.source_id)
    survivor = await session.get(Customer, merge.target_id)
    assert source is not None and survivor is not None
    details = dict(merge.details or {})
    visitor_ids = list(details.get("visitor_ids", []))
    await _move(
        session,
        list(merge.identity_ids),
        list(merge.conversation_ids),
        visitor_ids,
        source.id,
    )
    before = details.get("survivor_before")
    if before is not None:
        for field in KEPT:
            if field != "tags":
                setattr(survivor, field, before[field])
        await set_tags(session, survivor, list(before["tags"]))
        last = before.get("last_contact_at")
        survivor.last_contact_at = datetime.fromisoformat(last) if last else None
    if merge.candidate_ids:
        await session.execute(
            update(DuplicateCandidate)
            .where(DuplicateCandidate.id.in_(list(merge.candidate_ids)))
            .values(state="open")
        )
    source.merged_into_id = None
    merge.undone_at = now

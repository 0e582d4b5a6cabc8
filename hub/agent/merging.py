"""Merging duplicate customers (a fuzzy candidate confirmed by an agent), and undoing it: the
merge row records exactly which identities, conversations and candidates moved."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.errors import ui_conflict
from hub.db.inbox_models import CustomerMerge
from hub.db.models import Conversation, Customer, DuplicateCandidate, Identity, Message


async def _move(
    session: AsyncSession, identity_ids: list[int], conversation_ids: list[int], to: int
) -> None:
    if identity_ids:
        await session.execute(
            update(Identity).where(Identity.id.in_(identity_ids)).values(customer_id=to)
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


async def merge_customers(
    session: AsyncSession, target: Customer, source: Customer, agent_id: int, now: datetime
) -> CustomerMerge:
    """Move everything of ``source`` to ``target``; ``source`` stays, pointing at ``target``."""
    if target.id == source.id:
        raise ui_conflict("a customer cannot be merged with itself")
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise ui_conflict("one of these customers was already merged into another")
    identity_ids = list(
        (await session.scalars(select(Identity.id).where(Identity.customer_id == source.id))).all()
    )
    conversation_ids = list(
        (
            await session.scalars(
                select(Conversation.id).where(Conversation.customer_id == source.id)
            )
        ).all()
    )
    candidates = list(
        (
            await session.scalars(
                select(DuplicateCandidate).where(
                    or_(
                        (DuplicateCandidate.customer_id == source.id)
                        & (DuplicateCandidate.candidate_id == target.id),
                        (DuplicateCandidate.customer_id == target.id)
                        & (DuplicateCandidate.candidate_id == source.id),
                    )
                )
            )
        ).all()
    )
    await _move(session, identity_ids, conversation_ids, target.id)
    for candidate in candidates:
        candidate.state = "merged"
    source.merged_into_id = target.id
    if source.last_contact_at and (
        target.last_contact_at is None or source.last_contact_at > target.last_contact_at
    ):
        target.last_contact_at = source.last_contact_at
    merge = CustomerMerge(
        target_id=target.id,
        source_id=source.id,
        identity_ids=identity_ids,
        conversation_ids=conversation_ids,
        candidate_ids=[c.id for c in candidates],
        agent_id=agent_id,
        created_at=now,
    )
    session.add(merge)
    await session.flush()
    return merge


async def undo_merge(session: AsyncSession, merge: CustomerMerge, now: datetime) -> None:
    if merge.undone_at is not None:
        raise ui_conflict("this merge was already undone")
    source = await session.get(Customer, merge.source_id)
    assert source is not None
    await _move(session, list(merge.identity_ids), list(merge.conversation_ids), source.id)
    if merge.candidate_ids:
        await session.execute(
            update(DuplicateCandidate)
            .where(DuplicateCandidate.id.in_(list(merge.candidate_ids)))
            .values(state="open")
        )
    source.merged_into_id = None
    merge.undone_at = now

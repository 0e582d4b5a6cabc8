"""The warnings and breaches one SLA sweep finds, recorded together: one read of what earlier
passes recorded, the new events in one flush, their notices in one more. A morning backlog of
hundreds of conversations reaching their targets at once then holds the writer for a few
statements instead of a dozen per event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.routing import SlaPolicy
from hub.db.models import Conversation
from hub.db.routing_models import SlaClock, SlaEvent


@dataclass(frozen=True, slots=True)
class Due:
    """A target of one clock that is at risk (``warning``) or passed (``breach``) by now."""

    clock: SlaClock
    policy: SlaPolicy
    metric: str
    kind: str
    due_at: datetime

    @property
    def key(self) -> tuple[int, str, str, datetime]:
        return (self.clock.conversation_id, self.metric, self.kind, self.due_at)


async def unrecorded(session: AsyncSession, found: list[Due]) -> list[Due]:
    """The ones no earlier pass, nor another process, has recorded: one read for all."""
    if not found:
        return []
    ids = sorted({due.clock.conversation_id for due in found})
    rows = await session.execute(
        select(SlaEvent.conversation_id, SlaEvent.metric, SlaEvent.kind, SlaEvent.due_at).where(
            SlaEvent.conversation_id.in_(ids)
        )
    )
    seen = {tuple(row) for row in rows}
    return [due for due in found if due.key not in seen]


def event_of(due: Due, conversation: Conversation, now: datetime) -> SlaEvent:
    return SlaEvent(
        conversation_id=conversation.id,
        metric=due.metric,
        kind=due.kind,
        policy=due.policy.name,
        priority=conversation.priority,
        team_id=conversation.team_id,
        assignee_id=conversation.assignee_id,
        due_at=due.due_at,
        occurred_at=now,
    )


async def record_together(
    session: AsyncSession,
    fresh: list[Due],
    conversations: dict[int, Conversation],
    now: datetime,
) -> list[tuple[Due, SlaEvent]] | None:
    """Insert the events in one flush. None when one of them went in meanwhile (another
    process's sweep): nothing of this group is kept, and the caller records them one by one,
    each skipping the ones already there."""
    await session.flush()  # the sweep's own changes stay out of the savepoint below
    events = [(due, event_of(due, conversations[due.clock.conversation_id], now)) for due in fresh]
    try:
        async with session.begin_nested():
            session.add_all([event for _, event in events])
            await session.flush()
    except IntegrityError:
        return None
    return events

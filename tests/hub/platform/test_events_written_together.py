"""Events of an ingest batch are inserted together at its end (``written_together``): the
live inbox sees them in the order they were published, and a batch that fails leaves none."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.inbox_models import Event
from hub.db.models import Conversation
from hub.platform.events import publish, written_together
from tests.hub.web.ui.conftest import inbound
from tests.support.desk import Desk


async def _events_after(desk: Desk, floor: int) -> list[tuple[str, dict[str, object]]]:
    """The test's own events after ``floor`` (those with a step: the hub's workers write
    theirs meanwhile, the acknowledgement's delivery among them)."""
    async with desk.db.reader() as session:
        rows = await session.execute(
            select(Event.kind, Event.payload).where(Event.id > floor).order_by(Event.id)
        )
        return [(kind, dict(payload)) for kind, payload in rows if "step" in payload]


async def _newest(desk: Desk) -> int:
    async with desk.db.reader() as session:
        return int(await session.scalar(select(func.max(Event.id))) or 0)


async def _a_conversation(desk: Desk) -> tuple[int, int]:
    """A customer's conversation, and the newest event id once it is written."""
    sent = await inbound(desk, "Where is my parcel?")
    return sent.conversation_id, await _newest(desk)


async def _load(session: AsyncSession, conversation_id: int) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None
    return conversation


async def test_events_of_a_batch_arrive_in_the_order_they_were_published(desk: Desk) -> None:
    conversation_id, floor = await _a_conversation(desk)
    async with desk.db.writer() as session:
        conversation = await _load(session, conversation_id)
        now = desk.hub.clock.now()
        async with written_together(session):
            await publish(session, "tags", conversation, now, step=1)
            await publish(session, "status", conversation, now, step=2)
            await session.flush()  # a flush inside the block does not write them
            unseen = [
                payload
                for payload in await session.scalars(select(Event.payload).where(Event.id > floor))
                if "step" in payload
            ]
            await publish(session, "tags", conversation, now, step=3)
        await session.commit()

    assert unseen == []
    assert await _events_after(desk, floor) == [
        ("tags", {"step": 1}),
        ("status", {"step": 2}),
        ("tags", {"step": 3}),
    ]


async def test_a_batch_that_fails_writes_none_and_later_events_go_in_as_usual(
    desk: Desk,
) -> None:
    conversation_id, floor = await _a_conversation(desk)
    async with desk.db.writer() as session:
        conversation = await _load(session, conversation_id)
        now = desk.hub.clock.now()
        with pytest.raises(RuntimeError):
            async with written_together(session):
                await publish(session, "tags", conversation, now, step=1)
                raise RuntimeError("the batch failed")
        await publish(session, "status", conversation, now, step=2)
        await session.commit()

    assert await _events_after(desk, floor) == [("status", {"step": 2})]

"""On PostgreSQL several processes share the webhook work: two of them never send the same
attempt twice, and a change that commits after a newer one (its event id is lower) is still
sent: the cursor waits for it instead of passing it by."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select

from hub.core.conversations import set_status
from hub.db.models import Conversation, ConversationStatus
from hub.db.webhook_models import WebhookDelivery
from tests.hub.integrations.conftest import arrived, deliver, subscribe
from tests.support.desk import MakeDesk
from tests.support.recorder import HttpRecorder


def postgresql_only(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time: one process")


async def test_two_processes_never_send_the_same_attempt_twice(
    make_desk: MakeDesk, receiver: HttpRecorder, database_url: str
) -> None:
    postgresql_only(database_url)
    small = {"webhooks.batch_size": 3, "webhooks.concurrency": 2}
    desk = await make_desk(workers=False, **small)
    other = await make_desk(desk.clock, workers=False, **small)  # a second hub process
    sub = await subscribe(desk, receiver, ["conversation.created", "message.created"])
    for number in range(15):
        await desk.customer_writes(f"hello {number}", sender=f"c{number}@example.com")
    for _ in range(3):
        await asyncio.gather(desk.hub.webhooks.run_once(), other.hub.webhooks.run_once())
    async with desk.db.reader() as session:
        states = Counter((await session.scalars(select(WebhookDelivery.state))).all())
    assert states == {"delivered": 45}  # created, inbound message, acknowledgement: 15 each
    sent = Counter(r.headers["X-Relaydesk-Delivery"] for r in receiver.requests)
    assert len(sent) == 45 and set(sent.values()) == {1}
    assert len(arrived(receiver, sub.secret)) == 45


async def test_a_change_committed_after_a_newer_one_is_still_sent(
    make_desk: MakeDesk, receiver: HttpRecorder, database_url: str
) -> None:
    postgresql_only(database_url)
    desk = await make_desk(workers=False)
    first = await desk.customer_writes("first", sender="a@example.com")
    second = await desk.customer_writes("second", sender="b@example.com")
    sub = await subscribe(desk, receiver, ["conversation.status_changed"])
    now = desk.clock.now()
    async with desk.db.writer() as late:
        conversation = await late.get(Conversation, first.conversation_id)
        assert conversation is not None
        await set_status(late, conversation, ConversationStatus.RESOLVED, now)
        await late.flush()  # its event has its id now, still uncommitted
        async with desk.db.writer() as session:
            newer = await session.get(Conversation, second.conversation_id)
            assert newer is not None
            await set_status(session, newer, ConversationStatus.PENDING, now)
            await session.commit()
        await deliver(desk)
        [sent] = arrived(receiver, sub.secret)
        assert sent["data"]["conversation"]["id"] == second.conversation_id
        await late.commit()
    await deliver(desk)
    _, late_one = arrived(receiver, sub.secret)
    assert late_one["data"]["conversation"]["id"] == first.conversation_id
    assert late_one["data"]["status"] == "resolved"

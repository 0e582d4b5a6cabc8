"""Threading inbound messages into conversations: by thread key, else the customer's active
conversation on the channel, else a new one (with its own ticket) — in one batch or across."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from hub.core.conversations import set_status
from hub.db.models import Conversation, ConversationStatus, Message, Ticket
from hub.inbound.results import IngestResult
from hub.platform.clock import ManualClock
from tests.support.desk import Desk
from tests.support.messages import inbound


@pytest.fixture
def desk_clock() -> ManualClock:
    """These stories drive the clock."""
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


async def set_conversation_status(desk: Desk, conversation_id: int, status: str) -> None:
    async with desk.db.writer() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        await set_status(session, conversation, ConversationStatus(status), desk.clock.now())
        await session.commit()


async def conversation(desk: Desk, result: IngestResult) -> Conversation:
    async with desk.db.reader() as session:
        found = await session.get(Conversation, result.conversation_id)
    assert found is not None
    return found


async def tickets_of(desk: Desk, conversation_id: int) -> list[int]:
    async with desk.db.reader() as session:
        return list(
            (
                await session.scalars(
                    select(Ticket.number).where(Ticket.conversation_id == conversation_id)
                )
            ).all()
        )


async def test_thread_key_threads_messages_together(desk: Desk) -> None:
    [first] = await desk.ingest(inbound("1", thread_key="order-17", subject="Order 17"))
    [second] = await desk.ingest(inbound("2", thread_key="order-17"))
    [other] = await desk.ingest(inbound("3", thread_key="order-18"))
    assert second.conversation_id == first.conversation_id
    assert other.conversation_id != first.conversation_id  # a new thread, not the open one
    opened = await conversation(desk, first)
    assert (opened.thread_key, opened.subject) == ("order-17", "Order 17")
    assert len(await tickets_of(desk, first.conversation_id)) == 1
    assert second.ticket_number is None


async def test_thread_key_threads_within_one_batch(desk: Desk) -> None:
    one, two, three, four = await desk.ingest(
        inbound("1", thread_key="a"),
        inbound("2", thread_key="b"),
        inbound("3", thread_key="a"),
        inbound("4", thread_key="b"),
    )
    assert one.conversation_id == three.conversation_id
    assert two.conversation_id == four.conversation_id
    assert one.conversation_id != two.conversation_id
    assert await desk.count(Conversation) == 2
    assert await desk.count(Ticket) == 2


async def test_thread_key_belongs_to_its_customer(desk: Desk) -> None:
    [jane] = await desk.ingest(inbound("1", thread_key="t", address="jane@example.com"))
    [tom] = await desk.ingest(inbound("2", thread_key="t", address="tom@example.com"))
    assert jane.conversation_id != tom.conversation_id


async def test_without_thread_key_the_open_conversation_on_the_channel_is_used(
    desk: Desk,
) -> None:
    [first] = await desk.ingest(inbound("1", subject="Printer broken"))
    [second] = await desk.ingest(inbound("2", text="Any news?"))
    [elsewhere] = await desk.ingest(inbound("3", channel="contact"))
    [someone] = await desk.ingest(inbound("4", address="tom@example.com"))
    assert second.conversation_id == first.conversation_id
    assert elsewhere.conversation_id != first.conversation_id  # another channel
    assert someone.conversation_id != first.conversation_id  # another customer
    async with desk.db.reader() as session:
        texts = (
            await session.scalars(
                select(Message.text)
                .where(Message.conversation_id == first.conversation_id)
                .where(Message.direction == "inbound")
                .order_by(Message.id)
            )
        ).all()
    assert list(texts) == ["Hello, I need help.", "Any news?"]


async def test_same_customer_twice_in_one_batch_is_one_conversation(desk: Desk) -> None:
    one, two = await desk.ingest(inbound("1"), inbound("2"))
    assert one.conversation_id == two.conversation_id
    assert await desk.count(Ticket) == 1


async def test_pending_or_snoozed_conversation_takes_the_message_and_reopens(
    desk: Desk,
) -> None:

    [first] = await desk.ingest(inbound("1"))
    for number, status in enumerate(("pending", "snoozed"), start=2):
        await set_conversation_status(desk, first.conversation_id, status)
        [later] = await desk.ingest(inbound(str(number)))
        assert later.conversation_id == first.conversation_id
        assert (await conversation(desk, first)).status == "open"


async def test_after_resolve_a_new_conversation_and_ticket(desk: Desk) -> None:
    [first] = await desk.ingest(inbound("1", subject="First problem"))
    await set_conversation_status(desk, first.conversation_id, "resolved")
    [second] = await desk.ingest(inbound("2", subject="Second problem"))
    assert second.conversation_id != first.conversation_id
    assert (await conversation(desk, first)).status == "resolved"
    fresh = await conversation(desk, second)
    assert (fresh.status, fresh.subject) == ("open", "Second problem")
    assert second.ticket_number is not None and first.ticket_number is not None
    assert second.ticket_number == first.ticket_number + 1
    assert await tickets_of(desk, second.conversation_id) == [second.ticket_number]


async def test_after_resolve_in_a_later_batch_with_other_messages(desk: Desk) -> None:
    [first] = await desk.ingest(inbound("1"))
    await set_conversation_status(desk, first.conversation_id, "resolved")
    other, mine, again = await desk.ingest(
        inbound("2", address="tom@example.com"), inbound("3"), inbound("4")
    )
    assert mine.conversation_id not in (first.conversation_id, other.conversation_id)
    assert again.conversation_id == mine.conversation_id


async def test_thread_key_of_a_resolved_conversation_reopens_it(desk: Desk) -> None:
    """The external system says it is the same thread, so it is the same conversation."""
    [first] = await desk.ingest(inbound("1", thread_key="case-9"))
    await set_conversation_status(desk, first.conversation_id, "resolved")
    [later] = await desk.ingest(inbound("2", thread_key="case-9"))
    assert later.conversation_id == first.conversation_id
    reopened = await conversation(desk, first)
    assert (reopened.status, reopened.resolved_at) == ("open", None)
    async with desk.db.reader() as session:
        events = (
            await session.scalars(
                select(Message.text).where(
                    Message.conversation_id == first.conversation_id,
                    Message.direction == "event",
                )
            )
        ).all()
    assert "Status changed to open" in events


async def test_conversation_subject_from_first_line_when_no_subject(desk: Desk) -> None:
    long_line = "word " * 30
    [short] = await desk.ingest(inbound("1", text="Cannot log in\nsince Monday"))
    [long] = await desk.ingest(inbound("2", text=long_line, address="tom@example.com"))
    assert (await conversation(desk, short)).subject == "Cannot log in"
    subject = (await conversation(desk, long)).subject
    assert len(subject) == 80 and subject.endswith("...")


async def ticket_status(desk: Desk, conversation_id: int) -> str:
    async with desk.db.reader() as session:
        status = await session.scalar(
            select(Ticket.status).where(Ticket.conversation_id == conversation_id)
        )
    assert status is not None
    return status


async def test_the_ticket_follows_the_conversation_status(desk: Desk) -> None:
    [first] = await desk.ingest(inbound("1"))
    assert await ticket_status(desk, first.conversation_id) == "open"
    for status, expected in (("pending", "pending"), ("resolved", "solved"), ("open", "open")):
        await set_conversation_status(desk, first.conversation_id, status)
        assert await ticket_status(desk, first.conversation_id) == expected

"""Group commit: many submissions, one transaction; each message in its own savepoint; nobody is
answered before the commit; duplicates return the stored message and create nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hub.core import sla
from hub.db.inbox_models import Event
from hub.db.models import (
    Conversation,
    Counter,
    Customer,
    Direction,
    Identity,
    Message,
    OutboxItem,
    Ticket,
)
from hub.db.routing_models import SlaClock
from hub.inbound.ingest import IngestUnavailable
from hub.inbound.results import IngestResult
from hub.platform.clock import ManualClock
from tests.support.desk import Desk, MakeDesk
from tests.support.messages import inbound


@pytest.fixture
def desk_clock() -> ManualClock:
    """These stories drive the clock."""
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


ROW_KINDS = (Customer, Identity, Conversation, Message, Ticket, OutboxItem)


async def rows(desk: Desk) -> dict[str, int]:
    return {model.__tablename__: await desk.count(model) for model in ROW_KINDS}


async def test_concurrent_submissions_share_one_commit_and_are_durable_when_answered(
    desk: Desk,
) -> None:

    commits: list[list[bool]] = []
    tasks: list[asyncio.Task[IngestResult]] = []
    ingestor = desk.ingestor(after_commit=lambda: commits.append([t.done() for t in tasks]))

    async def submit_then_look(number: int) -> IngestResult:
        message = inbound(f"m-{number}", address=f"c{number}@example.com", name=f"C {number}")
        result = await ingestor.submit(message)
        # The moment the submitter is answered, another connection sees the message.
        async with desk.db.reader() as session:
            stored = await session.get(Message, result.message_id)
        assert stored is not None and stored.external_id == f"m-{number}"
        return result

    await ingestor.worker.start()
    try:
        tasks.extend(asyncio.create_task(submit_then_look(n)) for n in range(20))
        results = await asyncio.gather(*tasks)
    finally:
        await ingestor.worker.stop()

    assert len({r.message_id for r in results}) == 20
    assert not any(r.duplicate for r in results)
    assert 1 <= len(commits) < 20  # group-committed, not one commit per message
    # When each commit finished, no submitter had been answered yet.
    assert all(not any(snapshot) for snapshot in commits)
    assert await desk.count(Message, Message.direction == Direction.INBOUND) == 20
    numbers = sorted(await core_tickets(desk))
    assert numbers == list(range(numbers[0], numbers[0] + 20))


async def core_tickets(desk: Desk) -> list[int]:
    async with desk.db.reader() as session:
        return list((await session.scalars(select(Ticket.number))).all())


async def test_duplicate_within_one_batch_returns_the_first(desk: Desk) -> None:
    first, again, other = await desk.ingest(
        inbound("same"), inbound("same", text="a retry of the same delivery"), inbound("other")
    )
    assert not first.duplicate and again.duplicate and not other.duplicate
    assert (again.message_id, again.conversation_id, again.customer_id) == (
        first.message_id,
        first.conversation_id,
        first.customer_id,
    )
    assert other.message_id != first.message_id
    assert await desk.count(Message, Message.direction == Direction.INBOUND) == 2
    async with desk.db.reader() as session:
        stored = await session.get(Message, first.message_id)
    assert stored is not None and stored.text == "Hello, I need help."


async def test_duplicate_in_a_later_batch_creates_nothing(desk: Desk) -> None:
    [first] = await desk.ingest(inbound("once", subject="Invoice wrong"))
    before = await rows(desk)
    counter_before = await counter(desk)
    [again] = await desk.ingest(inbound("once", subject="Invoice wrong"))
    assert again.duplicate
    assert again.message_id == first.message_id
    assert again.conversation_id == first.conversation_id
    assert await rows(desk) == before
    assert await counter(desk) == counter_before


async def counter(desk: Desk) -> int | None:
    async with desk.db.reader() as session:
        return await session.scalar(select(Counter.value).where(Counter.name == "ticket"))


async def test_same_external_id_on_another_channel_is_another_message(desk: Desk) -> None:
    api, form = await desk.ingest(inbound("42"), inbound("42", channel="contact"))
    assert not form.duplicate
    assert api.message_id != form.message_id


async def test_a_failing_message_does_not_sink_its_batch(desk: Desk) -> None:
    commits: list[None] = []
    ingestor = desk.ingestor(after_commit=lambda: commits.append(None))
    good_one = inbound("good-1", address="ann@example.com", name="Ann")
    # A payload the database cannot store (an adapter bug): fails after the customer,
    # conversation, routing and ticket number were already written in its savepoint.
    broken = inbound("broken", address="bob@example.com", name="Bob", raw={"at": datetime.now(UTC)})
    good_two = inbound("good-2", address="cy@example.com", name="Cy")
    await ingestor.worker.start()
    try:
        outcomes = await asyncio.gather(
            ingestor.submit(good_one),
            ingestor.submit(broken),
            ingestor.submit(good_two),
            return_exceptions=True,
        )
    finally:
        await ingestor.worker.stop()

    assert len(commits) == 1  # all three were in the same batch
    first, failed, second = outcomes
    assert isinstance(first, IngestResult) and isinstance(second, IngestResult)
    assert isinstance(failed, IngestUnavailable)
    async with desk.db.reader() as session:
        senders = set((await session.scalars(select(Identity.address))).all())
        tickets = list(
            (
                await session.execute(
                    select(Ticket.number, Conversation.customer_id)
                    .join(Conversation, Conversation.id == Ticket.conversation_id)
                    .order_by(Ticket.number)
                )
            ).all()
        )
    # Nothing half-written for the broken one; its ticket number was not used up.
    assert senders == {"ann@example.com", "cy@example.com"}
    assert [(n, c) for n, c in tickets] == [
        (tickets[0][0], first.customer_id),
        (tickets[0][0] + 1, second.customer_id),
    ]
    assert await desk.count(Message, Message.external_id == "broken") == 0


async def test_unavailable_results_reach_the_direct_caller_too(desk: Desk) -> None:
    broken = inbound("broken", raw={"blob": b"\x00\x01"})
    try:
        await desk.ingest(broken)
    except IngestUnavailable as exc:
        assert "broken" in str(exc)
    else:
        raise AssertionError("a message that cannot be stored was reported as stored")
    assert await rows(desk) == dict.fromkeys((m.__tablename__ for m in ROW_KINDS), 0)


async def test_two_writers_racing_on_the_same_message_store_it_once(
    desk: Desk, make_desk: MakeDesk
) -> None:
    """Two hub processes receiving the same delivery (a provider retry to another node)."""
    other = await make_desk(desk.clock, settings=desk.settings)
    message = inbound("raced", address="new.person@example.com", name="New Person")
    one, two = await asyncio.gather(
        desk.ingestor().process([message]), other.ingestor().process([message])
    )
    assert one[0].message_id == two[0].message_id
    assert sorted([one[0].duplicate, two[0].duplicate]) == [False, True]
    assert await desk.count(Message, Message.direction == Direction.INBOUND) == 1
    assert await desk.count(Customer) == 1


async def test_two_writers_racing_on_a_new_sender_share_one_customer(
    desk: Desk, make_desk: MakeDesk
) -> None:
    """Different messages from a customer not seen before, reaching two processes at once."""
    other = await make_desk(desk.clock, settings=desk.settings)
    one, two = await asyncio.gather(
        desk.ingestor().process([inbound("first", address="fresh@example.com")]),
        other.ingestor().process([inbound("second", address="fresh@example.com")]),
    )
    assert not one[0].duplicate and not two[0].duplicate
    assert one[0].customer_id == two[0].customer_id
    assert await desk.count(Customer) == 1
    assert await desk.count(Identity) == 1
    assert await desk.count(Message, Message.direction == Direction.INBOUND) == 2


async def message_events(desk: Desk) -> list[tuple[int | None, object]]:
    async with desk.db.reader() as session:
        rows = await session.execute(
            select(Event.conversation_id, Event.payload).where(Event.kind == "message")
        )
        return sorted((c, dict(p or {}).get("message_id")) for c, p in rows)


async def test_follow_ups_in_one_batch_are_stored_with_their_times_and_events(desk: Desk) -> None:
    ann, bob = await desk.ingest(
        inbound("ann-1", address="ann@example.com", name="Ann"),
        inbound("bob-1", address="bob@example.com", name="Bob"),
    )
    desk.clock.advance(timedelta(minutes=5))
    results = await desk.ingest(
        inbound("ann-2", address="ann@example.com", name="Ann", text="Any news?"),
        inbound("cy-1", address="cy@example.com", name="Cy"),  # a new customer in between
        inbound("bob-2", address="bob@example.com", name="Bob"),
        inbound("ann-3", address="ann@example.com", name="Ann", text="Hello?"),
        inbound("ann-2", address="ann@example.com", name="Ann", text="Any news?"),  # a retry
    )
    ann2, cy, bob2, ann3, retry = results
    assert [r.duplicate for r in results] == [False, False, False, False, True]
    assert ann2.message_id < cy.message_id < bob2.message_id  # stored in the order they came
    assert (retry.message_id, retry.conversation_id) == (ann2.message_id, ann2.conversation_id)
    assert ann2.conversation_id == ann3.conversation_id == ann.conversation_id
    assert bob2.conversation_id == bob.conversation_id
    assert cy.conversation_id not in (ann.conversation_id, bob.conversation_id)
    assert ann2.message_id < bob2.message_id < ann3.message_id
    assert await desk.count(Message, Message.direction == Direction.INBOUND) == 6
    stored = {r.message_id for r in (ann, bob, ann2, bob2, ann3, cy)}
    assert await message_events(desk) == sorted(
        (r.conversation_id, r.message_id) for r in (ann, bob, ann2, bob2, ann3, cy)
    )
    async with desk.db.reader() as session:
        rows = await session.execute(select(Message.id, Message.text).where(Message.id.in_(stored)))
        texts = {message_id: text for message_id, text in rows}
        conversation = await session.get(Conversation, ann.conversation_id)
        customer = await session.get(Customer, ann.customer_id)
    assert (texts[ann2.message_id], texts[ann3.message_id]) == ("Any news?", "Hello?")
    assert conversation is not None and customer is not None
    later = desk.clock.now()
    assert conversation.last_inbound_at == later and conversation.last_activity_at == later
    assert customer.last_contact_at == later


async def test_first_messages_of_one_batch_each_open_their_own_conversation_in_order(
    desk: Desk,
) -> None:
    """Several new customers writing at once: their conversations are written together, and
    each still gets what it would alone, in the order they wrote."""
    [old] = await desk.ingest(inbound("old-1", address="old@example.com", name="Olga"))
    results = await desk.ingest(
        inbound("ann-1", address="ann@example.com", name="Ann", text="My parcel is late."),
        inbound("old-2", address="old@example.com", name="Olga"),  # a follow-up in between
        inbound("bob-1", address="bob@example.com", name="Bob", text="Wrong size."),
        inbound("ann-2", address="ann@example.com", name="Ann", text="Order 1234."),
        inbound("cy-1", address="cy@example.com", name="Cy", thread_key="invoice"),
        inbound("bob-1", address="bob@example.com", name="Bob", text="Wrong size."),  # a retry
    )
    ann, old2, bob, ann2, cy, retry = results
    assert [r.duplicate for r in results] == [False, False, False, False, False, True]
    assert ann.message_id < old2.message_id < bob.message_id < ann2.message_id < cy.message_id
    assert old2.conversation_id == old.conversation_id
    assert ann2.conversation_id == ann.conversation_id  # her second message joins her first
    opened = [ann.conversation_id, bob.conversation_id, cy.conversation_id]
    assert len({*opened, old.conversation_id}) == 4
    assert (retry.message_id, retry.conversation_id) == (bob.message_id, bob.conversation_id)
    assert len({ann.customer_id, bob.customer_id, cy.customer_id, old.customer_id}) == 4
    assert ann.ticket_number and bob.ticket_number and cy.ticket_number
    assert ann.ticket_number < bob.ticket_number < cy.ticket_number
    async with desk.db.reader() as session:
        created = await session.scalars(
            select(Event.conversation_id).where(Event.kind == "conversation_created")
        )
        rows = await session.execute(select(Message.id, Message.text))
        texts = {message_id: text for message_id, text in rows}
        cys = await session.get(Conversation, cy.conversation_id)
    assert list(created) == [old.conversation_id, *opened]
    assert texts[ann.message_id] == "My parcel is late." and texts[ann2.message_id] == "Order 1234."
    assert texts[bob.message_id] == "Wrong size."
    assert cys is not None and cys.thread_key == "invoice"
    assert await desk.count(Message, Message.direction == Direction.INBOUND) == 6
    assert await desk.count(Ticket) == 4


async def test_ticket_numbers_of_one_batch_follow_each_other_with_none_lost(
    make_desk: MakeDesk,
) -> None:
    """A batch takes its new tickets' numbers at once: one it opens no ticket for (spam) leaves
    no gap, in the batch or after it."""
    spam = [{"name": "spam", "regex": ["(?i)casino bonus"], "spam": True}]
    desk = await make_desk(**{"routing.rules": spam})
    [first] = await desk.ingest(inbound("0", address="first@example.com", name="First"))
    ann, casino, bob, cy = await desk.ingest(
        inbound("1", address="ann@example.com", name="Ann"),
        inbound("2", address="win@casino.example", name=None, text="Your CASINO BONUS"),
        inbound("3", address="bob@example.com", name="Bob"),
        inbound("4", address="cy@example.com", name="Cy"),
    )
    [dee] = await desk.ingest(inbound("5", address="dee@example.com", name="Dee"))

    assert casino.ticket_number is None
    assert first.ticket_number is not None
    numbers = [r.ticket_number for r in (first, ann, bob, cy, dee)]
    assert numbers == list(range(first.ticket_number, first.ticket_number + 5))
    assert sorted(await core_tickets(desk)) == numbers


async def test_a_broken_follow_up_does_not_sink_its_batch(desk: Desk) -> None:
    await desk.ingest(
        inbound("ann-1", address="ann@example.com", name="Ann"),
        inbound("bob-1", address="bob@example.com", name="Bob"),
    )
    events_before = await message_events(desk)
    ingestor = desk.ingestor()
    await ingestor.worker.start()
    try:
        good, broken, other = await asyncio.gather(
            ingestor.submit(inbound("ann-2", address="ann@example.com", name="Ann")),
            ingestor.submit(
                inbound(
                    "ann-3", address="ann@example.com", name="Ann", raw={"at": datetime.now(UTC)}
                )
            ),
            ingestor.submit(inbound("bob-2", address="bob@example.com", name="Bob")),
            return_exceptions=True,
        )
    finally:
        await ingestor.worker.stop()
    assert isinstance(good, IngestResult) and isinstance(other, IngestResult)
    assert isinstance(broken, IngestUnavailable)
    assert await desk.count(Message, Message.external_id == "ann-3") == 0
    assert await message_events(desk) == sorted(
        [
            *events_before,
            (good.conversation_id, good.message_id),
            (other.conversation_id, other.message_id),
        ]
    )


async def test_a_follow_up_after_an_answer_starts_the_next_response_clock(desk: Desk) -> None:
    [first] = await desk.ingest(inbound("ann-1", address="ann@example.com", name="Ann"))
    desk.clock.advance(timedelta(minutes=10))
    async with desk.db.writer() as session:
        await sla.note_agent_reply(session, first.conversation_id, desk.clock.now())
        await session.commit()
    desk.clock.advance(timedelta(minutes=10))
    asked = desk.clock.now()
    await desk.ingest(
        inbound("ann-2", address="ann@example.com", name="Ann"),
        inbound("ann-3", address="ann@example.com", name="Ann"),
    )
    desk.clock.advance(timedelta(minutes=10))
    await desk.ingest(inbound("ann-4", address="ann@example.com", name="Ann"))
    async with desk.db.reader() as session:
        clock = await session.get(SlaClock, first.conversation_id)
    assert clock is not None and clock.awaiting_since == asked
    assert await desk.count(Message, Message.direction == Direction.INBOUND) == 4

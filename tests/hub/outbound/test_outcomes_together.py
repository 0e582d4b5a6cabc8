"""Recording what was sent: acknowledgements that reach the mail server close together are
recorded in a few transactions, each reading its messages once, and every one of them shows
as sent to the agent."""

from __future__ import annotations

from sqlalchemy import select

from hub.db.models import Direction, Message, OutboxItem
from hub.outbound.outbox import _message_and_conversation, _read_group
from tests.hub.outbound.test_outbox import by_hand
from tests.support.desk import MakeDesk
from tests.support.messages import inbound
from tests.support.reads import statements_heard
from tests.support.smtp import SmtpSink

CUSTOMERS = 12


async def test_a_batch_of_acknowledgements_is_recorded_a_group_at_a_time(
    make_desk: MakeDesk, smtp_sink: SmtpSink
) -> None:
    desk = await by_hand(make_desk)
    await desk.ingest(*(inbound(str(n), address=f"c{n}@example.com") for n in range(CUSTOMERS)))
    groups: list[str] = []  # the outcomes' transactions: each reads its outbox rows once
    reads: list[str] = []  # reads of the messages whose outcome is recorded

    def hear(statement: str) -> None:
        if statement.startswith("SELECT outbox.") and "outbox.id IN" in statement:
            groups.append(statement)
        elif statement.startswith("SELECT messages.") and "JOIN conversations" in statement:
            reads.append(statement)

    with statements_heard(desk, hear):
        assert await desk.hub.dispatcher.run_once() == CUSTOMERS

    received = await smtp_sink.wait_for(CUSTOMERS)
    assert sorted(r for mail in received for r in mail.rcpt_tos) == sorted(
        f"c{n}@example.com" for n in range(CUSTOMERS)
    )
    async with desk.db.reader() as session:
        shown = (
            await session.execute(
                select(Message.delivery_state, OutboxItem.state, OutboxItem.attempts)
                .join(OutboxItem, OutboxItem.message_id == Message.id)
                .where(Message.direction == Direction.OUTBOUND)
            )
        ).all()
    assert sorted(tuple(row) for row in shown) == [("sent", "sent", 1)] * CUSTOMERS
    # One read of the messages per group, never one per message.
    assert 1 <= len(groups) < CUSTOMERS
    assert len(reads) == len(groups)


async def test_after_a_failed_savepoint_the_group_read_is_read_again(
    make_desk: MakeDesk, smtp_sink: SmtpSink
) -> None:
    """When one item's effects fail, the queue writes the group again with each item in a
    savepoint; the rollback of the failed one expires the rows it changed. Its outcome is
    then recorded from a fresh read of its message, not from the expired rows of the group's
    read (which an async session cannot load lazily)."""
    desk = await by_hand(make_desk)
    await desk.ingest(inbound("1", address="c1@example.com"))
    async with desk.db.writer() as session:
        [item] = list(await session.scalars(select(OutboxItem)))
        await _read_group(session, [item])
        message, _ = await _message_and_conversation(session, item.message_id)
        assert message is not None
        try:
            async with session.begin_nested():
                message.delivery_error = "half an outcome"
                raise RuntimeError("the effects failed")
        except RuntimeError:
            pass
        again, conversation = await _message_and_conversation(session, item.message_id)
        assert again is message and conversation is not None
        assert (again.delivery_error, again.delivery_state) == (None, "queued")

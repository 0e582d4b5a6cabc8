"""Recording what was sent: acknowledgements that reach the mail server close together are
recorded in a few transactions, each reading its messages once, and every one of them shows
as sent to the agent."""

from __future__ import annotations

from sqlalchemy import select

from hub.db.models import Direction, Message, OutboxItem
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

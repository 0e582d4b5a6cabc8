"""Round trips per message (issue #17): a customer's first message (new customer, conversation,
routing, ticket, report clocks) and their follow-up stay within a budget of SQL statements and
ORM flushes. A count, not a timing: it fails when the ingest path starts asking the database
more often. The budgets are today's counts (docs/performance.md); lower them as the path gets
leaner, never raise them without saying why there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from hub.db.models import Direction, Message, OutboxItem
from tests.support.desk import Desk, MakeDesk
from tests.support.messages import inbound
from tests.support.reads import statements_heard

NEW_CONVERSATION = (19, 3)  # statements (BEGIN included on SQLite), flushes
FOLLOW_UP = (11, 0)
RETURNING = (21, 3)  # a known customer writing about another matter: a new conversation
# a new conversation assigned to an online agent and acknowledged by mail
ASSIGNED_AND_ACKNOWLEDGED = (25, 3)
# eight new customers' first messages in one group commit: statements for all eight, flushes
GROUP_OF_EIGHT = (28, 3)


@dataclass
class Tally:
    statements: list[str] = field(default_factory=list)
    flushes: int = 0

    def within(self, budget: tuple[int, int]) -> bool:
        return len(self.statements) <= budget[0] and self.flushes <= budget[1]


@contextmanager
def counting(desk: Desk) -> Iterator[Tally]:
    """Every statement the hub's engines run, and every flush, while the block runs."""
    tally = Tally()

    def on_execute(statement: str) -> None:
        tally.statements.append(statement.split("\n")[0][:120])

    def on_flush(*_args: Any) -> None:
        tally.flushes += 1

    event.listen(Session, "after_flush_postexec", on_flush)
    try:
        with statements_heard(desk, on_execute):
            yield tally
    finally:
        event.remove(Session, "after_flush_postexec", on_flush)


async def test_a_new_conversation_and_a_follow_up_stay_within_their_statement_budget(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk(memory=("chat",), workers=False)
    await desk.customer_writes("Hi, first of the day", sender="early@example.com")

    with counting(desk) as first:
        opened = await desk.customer_writes("Hello, my order has not arrived yet.")
    with counting(desk) as again:
        followed = await desk.customer_writes("Any news about my order?")

    assert followed.conversation_id == opened.conversation_id
    assert first.within(NEW_CONVERSATION), (len(first.statements), first.flushes, first.statements)
    assert again.within(FOLLOW_UP), (len(again.statements), again.flushes, again.statements)


async def test_a_returning_customers_new_matter_stays_within_its_statement_budget(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk(memory=("chat",), workers=False)
    await desk.customer_writes("Hi, first of the day", sender="early@example.com")
    first = await desk.customer_writes("Hello, my order has not arrived yet.")

    with counting(desk) as returning:
        other = await desk.customer_writes("I was charged twice.", thread_key="matter-2")

    assert other.conversation_id != first.conversation_id
    assert other.customer_id == first.customer_id
    assert returning.within(RETURNING), (
        len(returning.statements),
        returning.flushes,
        returning.statements,
    )


async def test_an_assigned_and_acknowledged_new_conversation_stays_within_its_budget(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk(memory=("api", "mail"), workers=False)
    ann, _ = await desk.agent("ann@example.com")
    await desk.customer_writes("Hi, first of the day", sender="early@example.com")

    with counting(desk) as first:
        opened = await desk.customer_writes("Hello, my order has not arrived yet.")

    conversation = await desk.conversation(opened.conversation_id)
    assert conversation.assignee_id == ann
    acknowledgement = (
        Message.conversation_id == opened.conversation_id,
        Message.direction == Direction.OUTBOUND,
        Message.automated.is_(True),
    )
    assert await desk.count(Message, *acknowledgement) == 1
    queued = OutboxItem.message_id.in_(select(Message.id).where(*acknowledgement))
    assert await desk.count(OutboxItem, queued) == 1
    assert first.within(ASSIGNED_AND_ACKNOWLEDGED), (
        len(first.statements),
        first.flushes,
        first.statements,
    )


async def test_new_customers_writing_at_once_share_their_inserts(make_desk: MakeDesk) -> None:
    """Their customers, identities and conversations are written together, a statement per
    table, on both stores (SQLite needs the tables' insert sentinel for that)."""
    desk = await make_desk(memory=("chat",), workers=False)
    await desk.customer_writes("Hi, first of the day", sender="early@example.com")
    names = ("Ann Lee", "Bob Stone", "Cy Twombly", "Dana Scully", "Eve Moneypenny", "Fox Mulder")
    eight = [
        inbound(f"first-{n}", address=f"customer{n}@example.com", name=name)
        for n, name in enumerate((*names, "Gil Grissom", "Anne Lee"))  # the last, a namesake
    ]

    with counting(desk) as group:
        results = await desk.ingest(*eight)

    assert len({r.conversation_id for r in results}) == 8
    assert all(r.ticket_number for r in results)
    inserts = [s.split(" (")[0] for s in group.statements if s.startswith("INSERT INTO")]
    tables = ("customers", "identities", "duplicate_candidates", "conversations", "messages")
    for table in (*tables, "tickets", "outbox"):
        assert inserts.count(f"INSERT INTO {table}") == 1, (table, group.statements)
    assert group.within(GROUP_OF_EIGHT), (len(group.statements), group.flushes, group.statements)

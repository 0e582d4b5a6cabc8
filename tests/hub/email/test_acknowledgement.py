"""The acknowledgement of a new mail conversation: it answers in the customer's thread, says
what the template says now (an admin's rewording reaches every hub process with its next
acknowledgement), and a new customer who opens several conversations at once gets no more
automatic replies than the hourly limit."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from channels.memory.adapter import MemoryChannel
from hub.db.models import Direction, Message, Role
from hub.db.routing_models import FollowupTemplate
from tests.hub.email.conftest import mail, smtp_in
from tests.support.desk import Desk, MakeDesk, auth
from tests.support.reads import statements_heard
from tests.support.smtp import Received


def _to(received: list[Received], address: str) -> Received:
    [found] = [r for r in received if r.rcpt_tos == [address]]
    return found


async def test_the_acknowledgement_answers_in_the_customers_thread(desk: Desk) -> None:
    await smtp_in(desk, mail(msgid="<first@example.com>"))
    [ack] = await desk.smtp.wait_for(1)
    assert ack.message["In-Reply-To"] == "<first@example.com>"
    assert ack.message["References"] == "<first@example.com>"
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert "Hello Jane Cooper," in ack.text() and "ticket #1000 for it" in ack.text()


async def test_a_reworded_acknowledgement_is_sent_by_every_hub_process(
    desk: Desk, make_desk: MakeDesk
) -> None:
    other = await make_desk(settings=desk.hub.settings)  # a second process, same database
    await smtp_in(other, mail(sender="Ann <ann@example.com>"), sender="ann@example.com")
    await smtp_in(desk, mail(sender="Ben <ben@example.com>"), sender="ben@example.com")
    before = await desk.smtp.wait_for(2)
    assert "We have received your message" in _to(before, "ann@example.com").text()
    assert "We have received your message" in _to(before, "ben@example.com").text()

    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    saved = await desk.client.put(
        "/api/v1/routing/templates/ack",
        json={"txt": "Dear {{ customer.name }}, ticket {{ ticket.number }} is ours now."},
        headers=auth(admin),
    )
    assert saved.status == 200, await saved.text()
    assert await desk.count(FollowupTemplate) == 1

    await smtp_in(other, mail(sender="Cleo <cleo@example.com>"), sender="cleo@example.com")
    await smtp_in(desk, mail(sender="Dan <dan@example.com>"), sender="dan@example.com")
    after = await desk.smtp.wait_for(4)
    assert _to(after, "cleo@example.com").text().strip() == "Dear Cleo, ticket 1002 is ours now."
    assert _to(after, "dan@example.com").text().strip() == "Dear Dan, ticket 1003 is ours now."


@pytest.fixture
def mail_overrides() -> dict[str, Any]:
    return {"channels.mail.max_auto_replies_per_hour": 1}


async def test_a_new_customer_opening_two_conversations_at_once_gets_one_acknowledgement(
    desk: Desk,
) -> None:
    writer = MemoryChannel("mail")  # two mails from a new customer, in one ingest batch
    await desk.ingest(
        writer.message(
            "Help", subject="Printer on fire", thread_key="a", external_id="<one@example.com>"
        ),
        writer.message(
            "Also this", subject="Invoice", thread_key="b", external_id="<two@example.com>"
        ),
    )
    [ack] = await desk.smtp.wait_for(1)
    assert ack.rcpt_tos == ["jane@example.com"]
    assert ack.message["In-Reply-To"] == "<one@example.com>"
    conversations = await desk.conversations()
    assert len(conversations) == 2
    async with desk.db.reader() as session:
        held = (
            await session.scalars(
                select(Message.text).where(
                    Message.direction == Direction.EVENT, Message.text.contains("loop protection")
                )
            )
        ).all()
    assert held == [
        "Automatic reply not sent: jane@example.com already got 1 in the last hour "
        "(mail loop protection)"
    ]


async def test_known_customers_writing_at_once_are_held_to_the_hourly_limit_in_one_read(
    desk: Desk,
) -> None:
    """Ann was acknowledged a moment ago; Ben wrote before, automatically, and got nothing.
    Their new matters arrive in one batch: the window's replies are read once for both, Ann
    gets no second acknowledgement, Ben gets one, and his second new matter in the same batch
    none (the one he just got counts)."""
    writer = MemoryChannel("mail")
    await desk.ingest(writer.message("Help", sender="ann@example.com", name="Ann", thread_key="a"))
    automatic = writer.message("Out of office", sender="ben@example.com", name="Ben")
    await desk.ingest(replace(automatic, automated=True))
    await desk.smtp.wait_for(1)

    heard: list[str] = []
    with statements_heard(desk, heard.append):
        await desk.ingest(
            writer.message("Another thing", sender="ann@example.com", name="Ann", thread_key="c"),
            writer.message("My invoice", sender="ben@example.com", name="Ben", thread_key="d"),
            writer.message("And my order", sender="ben@example.com", name="Ben", thread_key="e"),
        )

    received = await desk.smtp.wait_for(2)
    assert sorted(r.rcpt_tos[0] for r in received) == ["ann@example.com", "ben@example.com"]
    assert len(await desk.conversations()) == 5
    held = await desk.count(
        Message, Message.direction == Direction.EVENT, Message.text.contains("loop protection")
    )
    assert held == 2  # Ann's second matter and Ben's third
    counts = [s for s in heard if "count(" in s and "FROM messages" in s]
    assert len(counts) == 1 and "GROUP BY messages.identity_id" in counts[0], counts

"""Mails that arrive at the same time (many SMTP sessions, an IMAP batch) are stored together,
in one transaction, and read exactly as if they had come one after the other: a reply joins the
mail it answers even when both are in the same batch, and one mail through two mailboxes is
still one message."""

from __future__ import annotations

import asyncio

from hub.core.tickets import ticket_for
from hub.db.email_models import EmailRecord
from tests.hub.email.conftest import mail
from tests.support.desk import Desk

ANN = "Ann Lee <ann@example.com>"


async def test_a_reply_arriving_with_the_mail_it_answers_joins_its_conversation(
    desk: Desk,
) -> None:
    inbox = desk.hub.email.inbox
    first = mail("Printer on fire", "It is burning.", msgid="<first@example.com>")
    reply = mail(
        "Completely different words",
        "Now the desk too.",
        sender="Bob <bob@example.com>",
        msgid="<second@example.com>",
        extra="In-Reply-To: <first@example.com>\r\nReferences: <first@example.com>",
    )
    other = mail("Invoice question", "Why twice?", sender="ann@example.com")
    results = await asyncio.gather(
        inbox.deliver("mail", first), inbox.deliver("mail", reply), inbox.deliver("mail", other)
    )
    assert [r.duplicate for r in results] == [False, False, False]
    assert results[0].conversation_id == results[1].conversation_id != results[2].conversation_id
    assert len(await desk.conversations()) == 2
    texts = [m.text for m in await desk.inbound_messages()]
    assert texts == ["It is burning.", "Now the desk too.", "Why twice?"]


async def test_one_mail_through_two_mailboxes_at_once_is_one_message(desk: Desk) -> None:
    inbox = desk.hub.email.inbox
    raw = mail(msgid="<both@example.com>")
    to_support, to_sales = await asyncio.gather(
        inbox.deliver("mail", raw), inbox.deliver("sales", raw)
    )
    assert to_support.message_id == to_sales.message_id
    assert sorted([to_support.duplicate, to_sales.duplicate]) == [False, True]
    again = await inbox.deliver("sales", raw)  # later: answered from the stored mail
    assert (again.message_id, again.duplicate) == (to_support.message_id, True)
    assert len(await desk.inbound_messages()) == 1
    assert await desk.count(EmailRecord) == 1


async def test_many_mails_at_once_are_each_stored_once(desk: Desk) -> None:
    inbox = desk.hub.email.inbox
    raws = [
        mail(f"Question {n}", f"Body {n}", sender=f"c{n % 7}@example.com", msgid=f"<m{n}@x.org>")
        for n in range(40)
    ]
    results = await asyncio.gather(*(inbox.deliver("mail", raw) for raw in [*raws, *raws[:5]]))
    assert sum(not r.duplicate for r in results) == 40
    assert [r.message_id for r in results[40:]] == [r.message_id for r in results[:5]]
    assert len(await desk.inbound_messages()) == 40


async def test_replies_arriving_together_each_join_the_conversation_they_answer(
    desk: Desk,
) -> None:
    inbox = desk.hub.email.inbox
    earlier = [
        await inbox.deliver(
            "mail",
            mail(f"Order {n}", f"Where is {n}?", sender=f"c{n}@example.com", msgid=f"<o{n}@x.org>"),
        )
        for n in range(3)
    ]
    replies = [
        mail(
            f"Re: Order {n}",
            f"Still waiting for {n}.",
            sender=f"c{n}@example.com",
            msgid=f"<r{n}@x.org>",
            extra=f"In-Reply-To: <o{n}@x.org>\r\nReferences: <o{n}@x.org>",
        )
        for n in (2, 0, 1)
    ]
    # A colleague answers the reply that arrives in the same moment, under another subject.
    chained = mail(
        "Something else",
        "Adding my part.",
        sender="colleague@example.com",
        msgid="<r9@x.org>",
        extra="In-Reply-To: <r0@x.org>\r\nReferences: <o0@x.org> <unknown@y.org> <r0@x.org>",
    )
    results = await asyncio.gather(*(inbox.deliver("mail", raw) for raw in [*replies, chained]))
    assert [r.conversation_id for r in results] == [
        earlier[2].conversation_id,
        earlier[0].conversation_id,
        earlier[1].conversation_id,
        earlier[0].conversation_id,
    ]
    assert len(await desk.conversations()) == 3


async def test_new_mails_arriving_together_each_open_one_and_a_ticket_number_still_joins(
    desk: Desk,
) -> None:
    """New mails of one batch open their conversations together; a mail among them that
    names an earlier ticket (no reply headers) still joins that ticket's conversation."""
    inbox = desk.hub.email.inbox
    earlier = await inbox.deliver("mail", mail("Broken hinge", "The lid fell off.", sender=ANN))
    number = await ticket_number(desk, earlier.conversation_id)
    raws = [
        mail("Lost parcel", "Where is it?", sender="Cy <cy@example.com>"),
        mail(f"Still broken [#{number}]", "Any news on the lid?", sender=ANN),
        mail("Wrong colour", "I ordered blue.", sender="Eve <eve@example.com>"),
    ]
    cy, ann, eve = await asyncio.gather(*(inbox.deliver("mail", raw) for raw in raws))

    assert ann.conversation_id == earlier.conversation_id
    assert len({cy.conversation_id, eve.conversation_id, earlier.conversation_id}) == 3
    assert cy.message_id and ann.message_id and eve.message_id
    assert cy.message_id < ann.message_id < eve.message_id
    numbers = [await ticket_number(desk, r.conversation_id) for r in (cy, eve)]
    assert numbers == [number + 1, number + 2]
    texts = [m.text for m in await desk.inbound_messages()]
    assert texts == ["The lid fell off.", "Where is it?", "Any news on the lid?", "I ordered blue."]


async def ticket_number(desk: Desk, conversation_id: int | None) -> int:
    assert conversation_id is not None
    async with desk.db.reader() as session:
        ticket = await ticket_for(session, conversation_id)
    assert ticket is not None
    return ticket.number

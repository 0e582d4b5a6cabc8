"""A mailed answer to a campaign message lands in a support conversation like any mail, and
the campaign knows it was answered; the mailto: of List-Unsubscribe unsubscribes quietly."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from hub.db.models import Conversation, ConversationStatus, Direction, Message
from tests.hub.email.conftest import mail, smtp_in
from tests.support.campaign_rows import (
    campaign,
    consent_state,
    person,
    recipient,
    recipient_row,
    token_for,
)
from tests.support.desk import Desk

SENT_ID = "<campaign.7.42@relaydesk.local>"


async def test_email_reply_links_the_recipient_and_reaches_support(desk: Desk) -> None:
    jane = await person(desk, "Jane Cooper", email="jane@example.com")
    spring = await campaign(desk, "Spring sale")
    rid = await recipient(desk, spring, jane, "email", "mail", message_ref=SENT_ID)

    reply = mail(
        "Re: Spring sale",
        "Do the shoes come in blue?",
        extra=f"In-Reply-To: {SENT_ID}\r\nReferences: {SENT_ID}",
    )
    await smtp_in(desk, reply)

    [conversation] = await desk.conversations()
    assert conversation.status == ConversationStatus.OPEN and conversation.team_id is not None
    row = await recipient_row(desk, rid)
    assert row.replied_at is not None and row.reply_conversation_id == conversation.id
    async with desk.db.reader() as session:
        events = list(
            await session.scalars(
                select(Message.text).where(
                    Message.conversation_id == conversation.id,
                    Message.direction == Direction.EVENT,
                )
            )
        )
    assert f"Reply to campaign “Spring sale” (#{spring})" in events
    [ack] = await desk.smtp.wait_for(1)  # acknowledged as any new conversation is
    assert "jane@example.com" in ack.message["To"]


async def test_a_mail_that_is_no_reply_leaves_the_campaign_alone(desk: Desk) -> None:
    jane = await person(desk, "Jane Cooper", email="jane@example.com")
    spring = await campaign(desk, "Spring sale")
    rid = await recipient(desk, spring, jane, "email", "mail", message_ref=SENT_ID)
    await smtp_in(desk, mail("Printer on fire", "Help"))
    assert (await recipient_row(desk, rid)).replied_at is None


async def test_an_out_of_office_answer_is_no_reply(desk: Desk) -> None:
    jane = await person(desk, "Jane Cooper", email="jane@example.com")
    spring = await campaign(desk, "Spring sale")
    rid = await recipient(desk, spring, jane, "email", "mail", message_ref=SENT_ID)
    auto = mail(
        "Out of office: Spring sale",
        "I am away until Monday.",
        extra=f"In-Reply-To: {SENT_ID}\r\nAuto-Submitted: auto-replied",
    )
    await smtp_in(desk, auto)
    assert (await recipient_row(desk, rid)).replied_at is None


async def test_mailto_unsubscribe_is_honoured_without_a_conversation(desk: Desk) -> None:
    jane = await person(desk, "Jane Cooper", email="jane@example.com")
    spring = await campaign(desk, "Spring sale")
    rid = await recipient(desk, spring, jane, "email", "mail", message_ref=SENT_ID)
    token = token_for(desk, rid)

    await smtp_in(
        desk,
        mail(f"unsubscribe {token}", "", to="unsubscribe@relaydesk.local"),
        to=("unsubscribe@relaydesk.local",),
    )

    assert await consent_state(desk, jane.identities["email"]) == ("revoked", "unsubscribe")
    assert (await recipient_row(desk, rid)).unsubscribed_at is not None
    assert await desk.count(Conversation, Conversation.status == ConversationStatus.OPEN) == 0
    await asyncio.sleep(0.3)
    assert desk.smtp is not None and desk.smtp.received == []  # nothing answered


async def test_mailto_with_a_forged_token_is_an_ordinary_mail(desk: Desk) -> None:
    jane = await person(desk, "Jane Cooper", email="jane@example.com")
    spring = await campaign(desk, "Spring sale")
    rid = await recipient(desk, spring, jane, "email", "mail", message_ref=SENT_ID)
    forged = token_for(desk, rid)[:-4] + "XXXX"
    await smtp_in(desk, mail(f"unsubscribe {forged}", "please"))
    assert await consent_state(desk, jane.identities["email"]) == ("granted", "form")
    [conversation] = await desk.conversations()
    assert conversation.status == ConversationStatus.OPEN

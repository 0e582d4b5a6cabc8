"""The visitor leaves an email: an agent's reply while they are away goes out by email (to a real
SMTP sink) with a reply address that threads back, and their emailed answer (through the hub's
own inbound SMTP) lands in the same conversation; a recent leaver gets a grace period; an
address that belongs to another customer is a merge suggestion, not a silent merge."""

from __future__ import annotations

import aiosmtplib
import pytest
from sqlalchemy import select

from hub.db.models import Conversation, DuplicateCandidate, Identity, Message, Role
from hub.db.widget_models import WidgetDelivery
from tests.channels.web.widget_client import Visitor
from tests.hub.web.test_widget_socket import (
    WS,
    chat,
    gone,
    message_row,
    reply,
    wait_state,
    widget_overrides,
)
from tests.support.agent_api import start_conversation
from tests.support.desk import Desk
from tests.support.poll import eventually
from tests.support.smtp import SmtpSink

__all__ = ["chat", "widget_overrides"]  # fixtures


async def answer_by_email(desk: Desk, raw: bytes, to: str) -> None:
    receiver = desk.hub.email.receiver_for("mail")
    assert receiver is not None
    await aiosmtplib.send(
        raw, sender="nora@example.com", recipients=[to], hostname="127.0.0.1", port=receiver.port
    )


async def test_a_reply_while_away_goes_by_email_and_the_answer_threads_back(
    chat: Desk, smtp_sink: SmtpSink
) -> None:
    _, token = await chat.agent("sam@example.com", role=Role.SUPERVISOR)
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    ack = await visitor.message("Do you ship to Norway?", "c-1")
    await visitor.send({"type": "email", "email": " Nora@Example.com ", "name": "Nora Berg"})
    assert (await visitor.expect("email_saved"))["email"] == "nora@example.com"
    await visitor.close()
    await gone(chat)

    sent = await reply(chat, token, ack["conversation_id"], "Yes, in 3-5 days.")
    [mail] = await smtp_sink.wait_for(1)
    async with chat.hub.db.reader() as session:
        conversation = await session.get(Conversation, ack["conversation_id"])
        assert conversation is not None
    assert mail.rcpt_tos == ["nora@example.com"]
    assert "Yes, in 3-5 days." in mail.text()
    reply_to = str(mail.message["Reply-To"])
    assert reply_to.endswith(f"support+{conversation.token}@relaydesk.local>")
    delivered = await wait_state(chat, sent["id"], "sent")
    assert delivered.external_id == mail.message["Message-ID"]
    async with chat.hub.db.reader() as session:
        record = await session.get(WidgetDelivery, sent["id"])
        assert record is not None and record.via == "email"
        assert "nora@example.com" in record.detail
        events = list(
            await session.scalars(
                select(Message.text).where(
                    Message.conversation_id == conversation.id, Message.direction == "event"
                )
            )
        )
    assert any("sent by email to nora@example.com" in text for text in events)

    answer = (
        "From: Nora Berg <nora@example.com>\r\n"
        f"To: {reply_to}\r\n"
        f"Subject: Re: {mail.message['Subject']}\r\n"
        f"Message-ID: <answer-1@example.com>\r\n"
        f"In-Reply-To: {mail.message['Message-ID']}\r\n"
        "Date: Mon, 05 Jan 2026 09:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Great, then I will order today.\r\n"
    ).encode()
    await answer_by_email(chat, answer, f"support+{conversation.token}@relaydesk.local")

    async def threaded() -> bool:
        async with chat.hub.db.reader() as session:
            found = await session.scalar(
                select(Message).where(Message.external_id == "<answer-1@example.com>")
            )
        return found is not None and found.conversation_id == conversation.id

    await eventually(threaded, what="the emailed answer in the same conversation")
    async with chat.hub.db.reader() as session:
        email_identity = await session.scalar(
            select(Identity).where(Identity.kind == "email", Identity.address == "nora@example.com")
        )
        assert email_identity is not None
        assert email_identity.customer_id == conversation.customer_id

    back = Visitor(chat.client, WS)  # the visitor returns: the whole exchange is in the window
    await back.connect(since=0, token=visitor.token)
    await back.agent_text("Yes, in 3-5 days.")
    await back.agent_text("Great, then I will order today.")
    live = await reply(chat, token, conversation.id, "Thanks, Nora!")
    await back.agent_text("Thanks, Nora!")
    assert (await wait_state(chat, live["id"], "sent")).external_id == f"widget:{live['id']}"
    assert len(smtp_sink.received) == 1  # connected: no second email
    await back.close()


@pytest.mark.parametrize("widget_overrides", [{"channels.chat.offline_grace_seconds": 60}])
async def test_a_visitor_who_just_left_gets_a_grace_period(chat: Desk, smtp_sink: SmtpSink) -> None:
    _, token = await chat.agent("sam@example.com", role=Role.SUPERVISOR)
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    ack = await visitor.message("Quick question", "c-1")
    await visitor.send({"type": "email", "email": "nora@example.com"})
    await visitor.expect("email_saved")
    await visitor.close()
    await gone(chat)

    sent = await reply(chat, token, ack["conversation_id"], "Sure, ask away.")

    async def waiting() -> bool:
        return "waiting" in ((await message_row(chat, sent["id"])).delivery_error or "")

    await eventually(waiting, what="the reply waits for the visitor")
    assert (await message_row(chat, sent["id"])).delivery_state == "queued"
    await visitor.connect()  # back from the next page: shown in the chat, no email
    await visitor.agent_text("Sure, ask away.")
    await wait_state(chat, sent["id"], "sent")
    assert smtp_sink.received == []
    await visitor.close()


async def test_an_email_of_another_customer_is_a_merge_suggestion(chat: Desk) -> None:
    other = await start_conversation(
        chat.client, chat.hub, "order-1", "jane@example.com", "Hello from the API"
    )
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    ack = await visitor.message("Hi, it's Jane again", "c-1")
    await visitor.send({"type": "email", "email": "jane@example.com", "name": "Jane"})
    assert (await visitor.expect("email_saved"))["email"] == "jane@example.com"
    await visitor.close()
    async with chat.hub.db.reader() as session:
        owner = await session.scalar(
            select(Identity).where(Identity.kind == "email", Identity.address == "jane@example.com")
        )
        assert owner is not None and owner.customer_id == other["customer_id"]  # not moved
        suggestion = await session.scalar(select(DuplicateCandidate))
        assert suggestion is not None
        assert suggestion.customer_id != other["customer_id"]
        assert suggestion.candidate_id == other["customer_id"]
        conversation = await session.get(Conversation, ack["conversation_id"])
        assert conversation is not None and conversation.customer_id == suggestion.customer_id

"""One message the whole way: web form -> customer, conversation, ticket, routed to an agent ->
acknowledgement mail -> agent reply through the API -> reply mail threaded under the first."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.db.models import Conversation, Customer, Identity, Message, Ticket
from tests.conftest import auth
from tests.support.desk import Desk
from tests.support.forms import submit
from tests.support.poll import eventually
from tests.support.smtp import SmtpSink


async def test_form_to_agent_reply(desk: Desk, smtp_sink: SmtpSink) -> None:
    agent_id, token = await desk.agent("alice@example.com")
    status, page = await submit(
        desk.client,
        {
            "name": "Jane Cooper",
            "email": "Jane.Cooper@Example.com",
            "subject": "Printer on fire",
            "message": "My printer is on fire.\nPlease advise.",
        },
    )
    assert status == 200
    assert "Message sent" in page

    async with desk.hub.db.reader() as session:
        customer = await session.scalar(select(Customer))
        assert customer is not None and customer.name == "Jane Cooper"
        identity = await session.scalar(select(Identity))
        assert identity is not None
        assert (identity.kind, identity.address) == ("email", "jane.cooper@example.com")
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None
        assert conversation.customer_id == customer.id
        assert conversation.assignee_id == agent_id
        assert conversation.subject == "Printer on fire"
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None and ticket.conversation_id == conversation.id
        assert ticket.first_response_due_at is not None

    [ack] = await smtp_sink.wait_for(1)
    assert ack.rcpt_tos == ["jane.cooper@example.com"]
    assert f"#{ticket.number}" in ack.message["Subject"]
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert "Jane Cooper" in ack.text()
    assert ack.html() is not None
    ack_id = ack.message["Message-ID"]
    assert ack_id and conversation.token in ack_id

    listed = await desk.client.get("/api/v1/conversations", headers=auth(token))
    assert listed.status == 200
    assert [item["id"] for item in (await listed.json())["items"]] == [conversation.id]

    reply = await desk.client.post(
        f"/api/v1/conversations/{conversation.id}/messages",
        json={"text": "Unplug it and step away.\nWe are sending help."},
        headers=auth(token),
    )
    assert reply.status == 201
    assert (await reply.json())["delivery_state"] == "queued"

    _, answer = await smtp_sink.wait_for(2)
    assert answer.rcpt_tos == ["jane.cooper@example.com"]
    assert answer.message["In-Reply-To"] == ack_id
    assert ack_id in answer.message["References"]
    assert answer.message["Subject"] == f"Re: Printer on fire [#{ticket.number}]"
    assert "Unplug it and step away." in answer.text()
    assert "Unplug it and step away.<br>We are sending help." in (answer.html() or "")

    messages = await desk.client.get(
        f"/api/v1/conversations/{conversation.id}/messages", headers=auth(token)
    )
    items = (await messages.json())["items"]
    assert [m["direction"] for m in items if m["direction"] != "event"] == [
        "inbound",
        "outbound",
        "outbound",
    ]

    async def all_sent() -> bool:
        # The mail server may have the message a moment before the outbox records it as sent.
        async with desk.hub.db.reader() as session:
            states = (
                await session.scalars(
                    select(Message.delivery_state).where(Message.direction == "outbound")
                )
            ).all()
        return set(states) == {"sent"}

    await eventually(all_sent, what="both outbound messages recorded as sent")
    async with desk.hub.db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Message)) >= 3

"""Mail received over real SMTP: routing by recipient, refusals, acknowledgements, loops,
duplicates, unparseable mail."""

from __future__ import annotations

import aiosmtplib
import pytest
from sqlalchemy import select

from hub.db.email_models import EmailRecord
from hub.db.models import Direction, Message, Role
from tests.conftest import auth
from tests.hub.email.conftest import fixture_bytes, mail, smtp_in, smtp_port
from tests.support.desk import Desk


async def test_mail_opens_a_conversation_and_gets_an_acknowledgement(desk: Desk) -> None:
    await smtp_in(desk, mail())
    [conversation] = await desk.conversations()
    assert conversation.channel == "mail"
    assert conversation.subject == "Printer on fire"
    [message] = await desk.inbound_messages()
    assert message.text == "My printer is on fire."
    [ack] = await desk.smtp.wait_for(1)
    assert ack.rcpt_tos == ["jane@example.com"]
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert ack.message["Reply-To"].endswith(f"support+{conversation.token}@relaydesk.local>")
    assert f"<rd.{conversation.token}." in ack.message["Message-ID"]
    assert ack.message["In-Reply-To"] == message.external_id


async def test_alias_and_second_mailbox_pick_their_channel(desk: Desk) -> None:
    await smtp_in(desk, mail("Invoice", "Question about billing"), to=("billing@relaydesk.local",))
    await smtp_in(desk, mail("Quote", "How much?"), to=("Sales@RelayDesk.local",))
    channels = [c.channel for c in await desk.conversations()]
    assert channels == ["mail", "sales"]


async def test_unknown_recipient_is_refused_at_rcpt(desk: Desk) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp_port(desk))
    await client.connect()
    await client.mail("jane@example.com")
    with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
        await client.rcpt("nobody@relaydesk.local")
    assert refused.value.code == 550
    ok = await client.rcpt("support+anything@relaydesk.local")
    assert ok.code == 250
    await client.quit()


@pytest.fixture
def mail_overrides() -> dict[str, object]:
    return {
        "channels.mail.max_message_bytes": 100_000,
        "channels.mail.max_auto_replies_per_hour": 2,
    }


async def test_oversized_mail_is_refused_with_552(desk: Desk) -> None:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp_port(desk))
    await client.connect()
    await client.ehlo()
    assert client.supports_extension("size")
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await client.sendmail(
            "jane@example.com", ["support@relaydesk.local"], mail(body=("x" * 70 + "\r\n") * 2200)
        )
    assert refused.value.code == 552
    await client.quit()
    assert await desk.count(Message) == 0


async def test_same_message_id_through_two_mailboxes_and_a_retry_is_one_message(
    desk: Desk,
) -> None:
    raw = mail(msgid="<once@example.com>")
    await smtp_in(desk, raw)
    await smtp_in(desk, raw)  # an SMTP retry
    await smtp_in(desk, raw, to=("sales@relaydesk.local",))  # the customer wrote to both
    assert len(await desk.inbound_messages()) == 1
    assert await desk.count(EmailRecord) == 1


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Precedence: bulk",
        "List-Id: <users.lists.example.org>",
    ],
)
async def test_automated_mail_is_stored_but_never_answered(desk: Desk, header: str) -> None:
    await smtp_in(desk, mail("Out of office", "I am away.", extra=header))
    await smtp_in(desk, mail("Real question", "Please help.", sender="tom@example.com"))
    [ack] = await desk.smtp.wait_for(1)
    assert ack.rcpt_tos == ["tom@example.com"]
    auto = (await desk.inbound_messages())[0]
    assert auto.automated
    assert await desk.count(Message, Message.direction == Direction.OUTBOUND) == 1


async def test_noreply_sender_gets_no_acknowledgement(desk: Desk) -> None:
    await smtp_in(desk, mail("Receipt", "Thanks", sender="Shop <no-reply@shop.example>"))
    [message] = await desk.inbound_messages()
    assert message.automated
    assert await desk.count(Message, Message.direction == Direction.OUTBOUND) == 0


async def test_automatic_replies_are_capped_per_address_and_hour(desk: Desk) -> None:
    for number in range(3):
        await smtp_in(desk, mail(f"Question number {number}", f"Text {number}"))
    await desk.smtp.wait_for(2)
    assert await desk.count(Message, Message.direction == Direction.OUTBOUND) == 2
    third = (await desk.conversations())[2]
    async with desk.hub.db.reader() as session:
        events = (
            await session.scalars(
                select(Message.text).where(
                    Message.conversation_id == third.id, Message.direction == Direction.EVENT
                )
            )
        ).all()
    assert any("mail loop protection" in text for text in events)


async def test_unparseable_mail_is_acknowledged_stored_raw_and_flagged(desk: Desk) -> None:
    line = bytes(b for b in range(1, 256) if b not in (10, 13, 46))[:200]
    garbage = (line + b"\r\n") * 4
    await smtp_in(desk, garbage)
    [message] = await desk.inbound_messages()
    assert message.parse_error
    _agent, token = await desk.agent("sam@example.com", role=Role.SUPERVISOR)
    listed = await desk.client.get(
        f"/api/v1/conversations/{message.conversation_id}/messages", headers=auth(token)
    )
    items = (await listed.json())["items"]
    assert [m["parse_error"] for m in items if m["direction"] == "inbound"] == [message.parse_error]
    raw = await desk.client.get(f"/api/v1/messages/{message.id}/raw", headers=auth(token))
    assert await raw.read() == garbage


async def test_talon_reply_shows_only_the_new_text(desk: Desk) -> None:
    await smtp_in(desk, fixture_bytes("talon/gmail.eml"))
    [message] = await desk.inbound_messages()
    assert message.text == "Hello"

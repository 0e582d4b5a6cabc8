"""Delivery status notifications mark our message failed and the address bouncing; they never
open a conversation or get an answer."""

from __future__ import annotations

from sqlalchemy import select

from hub.db.email_models import EmailRecord
from hub.db.models import Conversation, DeliveryState, Direction, Identity, Message
from tests.hub.email.conftest import fixture_bytes, mail, smtp_in
from tests.support.desk import Desk
from tests.support.poll import eventually


def dsn(original_id: str, recipient: str, *, labelled: bool) -> bytes:
    report_type = "; report-type=delivery-status" if labelled else ""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: support@relaydesk.local\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-" + recipient + ">\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report{report_type}; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nI could not deliver your message.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original_id}\r\nSubject: Re: Printer on fire\r\n"
        "--b1--\r\n"
    ).encode()


async def _delivery_state(desk: Desk, external_id: str) -> str:
    async with desk.hub.db.reader() as session:
        state = await session.scalar(
            select(Message.delivery_state).where(Message.external_id == external_id)
        )
    return str(state)


async def test_bounce_marks_the_original_failed_and_the_address_bouncing(
    desk: Desk,
) -> None:
    await smtp_in(desk, mail(sender="Jane <jane@example.com>"))
    [ack] = await desk.smtp.wait_for(1)
    ack_id = ack.message["Message-ID"]

    async def sent() -> bool:
        return await _delivery_state(desk, ack_id) == DeliveryState.SENT

    await eventually(sent, what="acknowledgement marked sent")
    await smtp_in(desk, dsn(ack_id, "jane@example.com", labelled=True), sender="")
    assert await _delivery_state(desk, ack_id) == DeliveryState.FAILED
    [conversation] = await desk.conversations()
    async with desk.hub.db.reader() as session:
        identity = await session.scalar(
            select(Identity).where(Identity.address == "jane@example.com")
        )
        assert identity is not None and identity.bouncing
        original = await session.scalar(select(Message).where(Message.external_id == ack_id))
        assert original is not None and "5.1.1" in (original.delivery_error or "")
        report = await session.scalar(
            select(Message).where(
                Message.direction == Direction.INBOUND, Message.automated.is_(True)
            )
        )
        assert report is not None and report.conversation_id == conversation.id
        assert report.text.startswith("Delivery failed to jane@example.com (5.1.1")
        refreshed = await session.get(Conversation, conversation.id)
        assert refreshed is not None and refreshed.status == "open"
    assert await desk.count(Message, Message.direction == Direction.OUTBOUND) == 1


async def test_bounce_without_report_type_is_recognized_by_null_sender(desk: Desk) -> None:
    await smtp_in(desk, mail(sender="Jane <jane@example.com>"))
    [ack] = await desk.smtp.wait_for(1)
    await smtp_in(
        desk, dsn(ack.message["Message-ID"], "jane@example.com", labelled=False), sender=""
    )
    assert await desk.count(Conversation) == 1
    assert await desk.count(EmailRecord, EmailRecord.bounce.is_not(None)) == 1


async def test_unmatched_bounces_are_kept_but_open_nothing(desk: Desk) -> None:
    for name in ("msg_16.txt", "msg_25.txt", "msg_43.txt"):
        await smtp_in(desk, fixture_bytes(f"cpython-test_email/{name}"), sender="")
    assert await desk.count(Conversation) == 0
    assert await desk.count(Message) == 0
    async with desk.hub.db.reader() as session:
        records = (await session.scalars(select(EmailRecord).order_by(EmailRecord.id))).all()
    assert len(records) == 3
    assert all(r.bounce is not None and r.message_id is None for r in records)
    assert records[0].bounce is not None
    assert records[0].bounce["original_message_ids"] == ["<002001c144a6$8752e060$56104586@oxy.edu>"]
    assert records[0].bounce["recipients"][0]["address"] == "jangel1@cougar.noc.ucla.edu"

"""Bounces suppress an address for campaigns: a hard bounce at once, soft bounces after
``soft_bounce_limit`` in a row; the bounced recipient row says so, and no conversation opens."""

from __future__ import annotations

from sqlalchemy import select

from hub.db.models import Conversation, Identity
from tests.hub.email.conftest import fixture_bytes, smtp_in
from tests.support.campaign_rows import campaign, consent_state, person, recipient, recipient_row
from tests.support.desk import Desk

GMAIL_ORIGINAL = "<rd.0123456789abcdef.aa11bb22cc33@relaydesk.local>"  # in dsn_gmail_style.eml


def dsn(original_id: str, recipient: str, status: str, number: int) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: support@relaydesk.local\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <dsn-{number}-{recipient}>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nI could not deliver your message.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; 452 {status} mailbox full\r\n"
        "--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original_id}\r\nSubject: Spring sale\r\n"
        "--b1--\r\n"
    ).encode()


async def test_hard_bounce_suppresses_the_address_and_marks_the_recipient(desk: Desk) -> None:
    gone = await person(desk, "Gone", email="gone@example.net")
    other = await person(desk, "Still here", email="here@example.net")
    spring = await campaign(desk)
    rid = await recipient(desk, spring, gone, "email", "mail", message_ref=GMAIL_ORIGINAL)
    kept = await recipient(
        desk, spring, other, "email", "mail", message_ref="<other@relaydesk.local>"
    )

    await smtp_in(desk, fixture_bytes("generated/dsn_gmail_style.eml"), sender="")

    assert await consent_state(desk, gone.identities["email"]) == ("suppressed", "bounce")
    assert (await recipient_row(desk, rid)).bounced_at is not None
    assert (await recipient_row(desk, kept)).bounced_at is None
    assert await consent_state(desk, other.identities["email"]) == ("granted", "form")
    async with desk.db.reader() as session:
        identity = await session.get(Identity, gone.identities["email"])
        assert identity is not None and identity.bouncing
    assert await desk.count(Conversation) == 0


async def test_three_soft_bounces_in_a_row_suppress(desk: Desk) -> None:
    jane = await person(desk, "Jane", email="jane@example.com")
    refs = []
    for number in range(3):
        sale = await campaign(desk, f"Sale {number}")
        ref = f"<sale{number}@relaydesk.local>"
        refs.append(await recipient(desk, sale, jane, "email", "mail", message_ref=ref))
    assert desk.settings.campaigns.soft_bounce_limit == 3

    for number in range(3):
        await smtp_in(
            desk,
            dsn(f"<sale{number}@relaydesk.local>", "jane@example.com", "4.2.2", number),
            sender="",
        )
        state = await consent_state(desk, jane.identities["email"])
        assert state == (("suppressed", "bounce") if number == 2 else ("granted", "form"))
    for rid in refs:
        assert (await recipient_row(desk, rid)).bounced_at is not None
    async with desk.db.reader() as session:
        bouncing = await session.scalar(select(Identity.bouncing))
    assert bouncing is False  # soft bounces never mark the address as dead for support mail


async def test_a_delivered_message_between_soft_bounces_resets_the_count(desk: Desk) -> None:
    jane = await person(desk, "Jane", email="jane@example.com")
    for number in range(3):
        sale = await campaign(desk, f"Sale {number}")
        await recipient(
            desk, sale, jane, "email", "mail", message_ref=f"<sale{number}@relaydesk.local>"
        )
    for number in (0, 2):  # the message in between was delivered (no report)
        await smtp_in(
            desk,
            dsn(f"<sale{number}@relaydesk.local>", "jane@example.com", "4.2.2", number),
            sender="",
        )
    assert await consent_state(desk, jane.identities["email"]) == ("granted", "form")

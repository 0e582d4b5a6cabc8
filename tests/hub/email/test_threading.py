"""Replies find their conversation: reply address token, Message-ID token, References, ticket
number, and the subject only as a last resort and never across customers."""

from __future__ import annotations

from sqlalchemy import select

from hub.db.email_models import EmailParticipant
from hub.db.models import Identity, Role
from hub.platform.clock import SystemClock
from tests.hub.email.conftest import fixture_bytes, mail, smtp_in
from tests.support.desk import Desk


async def _first_ack(desk: Desk) -> tuple[str, str]:
    [ack] = await desk.smtp.wait_for(1)
    return ack.message["Message-ID"], ack.message["Reply-To"]


async def test_reply_to_the_token_address_joins_without_any_reference(desk: Desk) -> None:
    await smtp_in(desk, mail())
    [conversation] = await desk.conversations()
    _ack_id, reply_to = await _first_ack(desk)
    address = reply_to.split("<")[1].rstrip(">")
    await smtp_in(
        desk, mail("Completely different subject", "Any news?", to=address), to=(address,)
    )
    assert [c.id for c in await desk.conversations()] == [conversation.id]
    assert len(await desk.inbound_messages()) == 2


async def test_reply_referencing_our_message_id_joins_even_from_a_colleague(
    desk: Desk,
) -> None:
    await smtp_in(desk, mail())
    [conversation] = await desk.conversations()
    ack_id, _reply_to = await _first_ack(desk)
    reply = mail(
        "Re: Printer on fire",
        "I am Jane's colleague, it is still burning.",
        sender="Bob <bob@example.com>",
        extra=f"In-Reply-To: {ack_id}\r\nReferences: {ack_id}",
    )
    await smtp_in(desk, reply)
    conversations = await desk.conversations()
    assert [c.id for c in conversations] == [conversation.id]
    messages = await desk.inbound_messages()
    assert messages[1].customer_id != conversation.customer_id  # Bob is his own customer


async def test_references_to_a_customer_message_join(desk: Desk) -> None:
    await smtp_in(desk, mail(msgid="<first@example.com>"))
    await smtp_in(
        desk, mail("Re: Printer on fire", "More details", extra="References: <first@example.com>")
    )
    assert len(await desk.conversations()) == 1


async def test_chatwoot_reply_with_unknown_references_opens_its_own_conversation(
    desk: Desk,
) -> None:
    await smtp_in(desk, fixture_bytes("chatwoot/references.eml"))
    [conversation] = await desk.conversations()
    assert conversation.subject == "Discussion: Let's debate these attachments"


async def test_subject_is_a_last_resort_and_never_joins_two_customers(desk: Desk) -> None:
    await smtp_in(desk, mail("Printer broken", "A", sender="Ann <ann@example.com>"))
    await smtp_in(desk, mail("Printer broken", "B", sender="Ben <ben@example.com>"))
    assert len(await desk.conversations()) == 2
    await smtp_in(desk, mail("RE: Printer broken", "A again", sender="Ann <ann@example.com>"))
    ann, ben = await desk.conversations()
    messages = await desk.inbound_messages()
    assert [m.conversation_id for m in messages] == [ann.id, ben.id, ann.id]


async def test_mail_from_a_known_customers_second_address_joins_that_customer(
    desk: Desk,
) -> None:
    await smtp_in(desk, mail("Order 55 missing", "Where is it?"))
    [conversation] = await desk.conversations()
    async with desk.hub.db.writer() as session:
        session.add(
            Identity(
                customer_id=conversation.customer_id,
                kind="email",
                address="jane.private@home.example",
                display_name="Jane Cooper",
                created_at=SystemClock().now(),
            )
        )
        await session.commit()
    await smtp_in(
        desk, mail("Re: Order 55 missing", "Writing from home", sender="jane.private@home.example")
    )
    messages = await desk.inbound_messages()
    assert [m.customer_id for m in messages] == [conversation.customer_id] * 2
    assert [m.conversation_id for m in messages] == [conversation.id] * 2


async def test_ticket_number_in_subject_joins_the_same_customer(desk: Desk) -> None:
    await smtp_in(desk, mail("Login problem", "Cannot log in"))
    [ack] = await desk.smtp.wait_for(1)
    subject = ack.message["Subject"]
    assert "[#" in subject
    await smtp_in(desk, mail(f"Re: {subject} - other words", "Still cannot"))
    assert len(await desk.conversations()) == 1


async def test_forwarded_mail_and_cc_participants_are_recorded(desk: Desk) -> None:
    await smtp_in(desk, fixture_bytes("generated/forwarded_attached.eml"))
    await smtp_in(desk, fixture_bytes("generated/cc_participants.eml"))
    forwarded, copied = await desk.conversations()
    async with desk.hub.db.reader() as session:
        people = (
            await session.execute(
                select(EmailParticipant.address, EmailParticipant.role).where(
                    EmailParticipant.conversation_id == copied.id
                )
            )
        ).all()
    assert sorted(people) == [
        ("bob@example.com", "cc"),
        ("carol@example.com", "cc"),
        ("jane@example.com", "from"),
    ]
    _agent, token = await desk.agent("ada@example.com", role=Role.ADMIN)
    first = (await desk.inbound_messages())[0]
    details = await desk.client.get(
        f"/api/v1/messages/{first.id}/email", headers={"Authorization": f"Bearer {token}"}
    )
    body = await details.json()
    assert body["forwarded_from"] == "Original Sender <orig@partner.example>"
    assert [a["filename"] for a in body["attachments"]] == ["forwarded-message.eml"]
    assert forwarded.id == first.conversation_id

"""Replies find their conversation: reply address token, Message-ID token, References, ticket
number, and the subject only as a last resort and never across customers."""

from __future__ import annotations

from sqlalchemy import select

from hub.db.email_models import EmailParticipant
from hub.db.models import Identity, Role
from hub.platform.clock import SystemClock
from tests.hub.email.conftest import MailHub, fixture_bytes, mail


async def _first_ack(mailhub: MailHub) -> tuple[str, str]:
    [ack] = await mailhub.sink.wait_for(1)
    return ack.message["Message-ID"], ack.message["Reply-To"]


async def test_reply_to_the_token_address_joins_without_any_reference(mailhub: MailHub) -> None:
    await mailhub.send(mail())
    [conversation] = await mailhub.conversations()
    _ack_id, reply_to = await _first_ack(mailhub)
    address = reply_to.split("<")[1].rstrip(">")
    await mailhub.send(mail("Completely different subject", "Any news?", to=address), to=(address,))
    assert [c.id for c in await mailhub.conversations()] == [conversation.id]
    assert len(await mailhub.inbound()) == 2


async def test_reply_referencing_our_message_id_joins_even_from_a_colleague(
    mailhub: MailHub,
) -> None:
    await mailhub.send(mail())
    [conversation] = await mailhub.conversations()
    ack_id, _reply_to = await _first_ack(mailhub)
    reply = mail(
        "Re: Printer on fire",
        "I am Jane's colleague, it is still burning.",
        sender="Bob <bob@example.com>",
        extra=f"In-Reply-To: {ack_id}\r\nReferences: {ack_id}",
    )
    await mailhub.send(reply)
    conversations = await mailhub.conversations()
    assert [c.id for c in conversations] == [conversation.id]
    messages = await mailhub.inbound()
    assert messages[1].customer_id != conversation.customer_id  # Bob is his own customer


async def test_references_to_a_customer_message_join(mailhub: MailHub) -> None:
    await mailhub.send(mail(msgid="<first@example.com>"))
    await mailhub.send(
        mail("Re: Printer on fire", "More details", extra="References: <first@example.com>")
    )
    assert len(await mailhub.conversations()) == 1


async def test_chatwoot_reply_with_unknown_references_opens_its_own_conversation(
    mailhub: MailHub,
) -> None:
    await mailhub.send(fixture_bytes("chatwoot/references.eml"))
    [conversation] = await mailhub.conversations()
    assert conversation.subject == "Discussion: Let's debate these attachments"


async def test_subject_is_a_last_resort_and_never_joins_two_customers(mailhub: MailHub) -> None:
    await mailhub.send(mail("Printer broken", "A", sender="Ann <ann@example.com>"))
    await mailhub.send(mail("Printer broken", "B", sender="Ben <ben@example.com>"))
    assert len(await mailhub.conversations()) == 2
    await mailhub.send(mail("RE: Printer broken", "A again", sender="Ann <ann@example.com>"))
    ann, ben = await mailhub.conversations()
    messages = await mailhub.inbound()
    assert [m.conversation_id for m in messages] == [ann.id, ben.id, ann.id]


async def test_mail_from_a_known_customers_second_address_joins_that_customer(
    mailhub: MailHub,
) -> None:
    await mailhub.send(mail("Order 55 missing", "Where is it?"))
    [conversation] = await mailhub.conversations()
    async with mailhub.hub.db.writer() as session:
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
    await mailhub.send(
        mail("Re: Order 55 missing", "Writing from home", sender="jane.private@home.example")
    )
    messages = await mailhub.inbound()
    assert [m.customer_id for m in messages] == [conversation.customer_id] * 2
    assert [m.conversation_id for m in messages] == [conversation.id] * 2


async def test_ticket_number_in_subject_joins_the_same_customer(mailhub: MailHub) -> None:
    await mailhub.send(mail("Login problem", "Cannot log in"))
    [ack] = await mailhub.sink.wait_for(1)
    subject = ack.message["Subject"]
    assert "[#" in subject
    await mailhub.send(mail(f"Re: {subject} - other words", "Still cannot"))
    assert len(await mailhub.conversations()) == 1


async def test_forwarded_mail_and_cc_participants_are_recorded(mailhub: MailHub) -> None:
    await mailhub.send(fixture_bytes("generated/forwarded_attached.eml"))
    await mailhub.send(fixture_bytes("generated/cc_participants.eml"))
    forwarded, copied = await mailhub.conversations()
    async with mailhub.hub.db.reader() as session:
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
    _agent, token = await mailhub.agent("ada@example.com", role=Role.ADMIN)
    first = (await mailhub.inbound())[0]
    details = await mailhub.client.get(
        f"/api/v1/messages/{first.id}/email", headers={"Authorization": f"Bearer {token}"}
    )
    body = await details.json()
    assert body["forwarded_from"] == "Original Sender <orig@partner.example>"
    assert [a["filename"] for a in body["attachments"]] == ["forwarded-message.eml"]
    assert forwarded.id == first.conversation_id

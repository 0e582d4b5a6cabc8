"""An agent's reply is formatted for the channel that carries it: an email gets the subject
("Re: …" with the ticket number) and the signature; a chat customer (API channel, Telegram,
Slack, the widget) gets exactly what the agent wrote, with no subject and no signature."""

from __future__ import annotations

from typing import Any

from tests.support.desk import Desk, MakeDesk, auth


async def reply(desk: Desk, token: str, conversation_id: int, text: str) -> dict[str, Any]:
    response = await desk.client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text, "private": False},
        headers=auth(token),
    )
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_chat_customer_gets_the_plain_text(make_desk: MakeDesk) -> None:
    desk = await make_desk(memory=("api", "mail"))
    _, token = await desk.agent("alice@example.com")
    opened = await desk.customer_writes("Where is my parcel?", channel="api")

    sent = await reply(desk, token, opened.conversation_id, "It left our warehouse today.")

    [answer] = await desk.wait_sent(1, channel="api")
    assert answer.text == "It left our warehouse today."
    assert not answer.subject and answer.html is None
    assert sent["text"] == "It left our warehouse today."


async def test_email_customer_gets_subject_and_signature(make_desk: MakeDesk) -> None:
    desk = await make_desk(memory=("api", "mail"))
    _, token = await desk.agent("alice@example.com")
    opened = await desk.customer_writes("Where is my parcel?", channel="mail", subject="Parcel")
    await desk.wait_sent(1, channel="mail")  # the acknowledgement

    await reply(desk, token, opened.conversation_id, "It left our warehouse today.")

    answer = (await desk.wait_sent(2, channel="mail"))[-1]
    assert answer.subject is not None and answer.subject.startswith("Re: Parcel")
    assert answer.text.startswith("It left our warehouse today.")
    assert "-- \nAlice, Relaydesk Demo" in answer.text
    assert answer.html is not None and "Alice" in answer.html

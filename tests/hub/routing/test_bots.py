"""The chat-bot gateway: the FAQ bot answers from the knowledge base above its threshold and
hands over to a person below it or when asked; an external Rasa-style bot (a local fake REST
webhook) gets the customer's messages, its replies are relayed, and it can hand over."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from hub.db.models import Direction, Message, Role
from tests.support.desk import MakeDesk, auth

FAQ_RULE = {"name": "faq first", "channels": ["api"], "bot": "faq"}


async def test_faq_bot_answers_then_hands_over(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"routing.rules": [FAQ_RULE]})
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    agent_id, _ = await desk.agent("agent@example.com")
    for question, answer in (
        ("How can I reset my password?", "Use the 'Forgot password' link on the sign-in page."),
        ("What are your opening hours?", "Monday to Friday, 9:00 to 17:00."),
    ):
        added = await desk.client.post(
            "/api/v1/routing/faq",
            json={"question": question, "answer": answer},
            headers=auth(admin),
        )
        assert added.status == 201
    opened = await desk.customer_writes("how do i reset my password")
    conversation_id = opened.conversation_id
    [answer] = await desk.wait_sent(1, channel="api")
    assert "Forgot password" in answer.text
    assert answer.automated is True
    assert (await desk.conversation(conversation_id)).assignee_id is None

    await desk.customer_writes("this did not help, I want to talk to a human")
    assert (await desk.conversation(conversation_id)).assignee_id == agent_id
    await desk.customer_writes(
        "what are your opening hours"
    )  # a person has it now: the bot stays quiet
    async with desk.hub.db.reader() as session:
        log = (
            await session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.id)
            )
        ).all()
    said = [m for m in log if m.direction == Direction.OUTBOUND]
    assert [m.raw.get("bot") for m in said if m.channel == "api"] == ["faq"]  # not the ack
    events = [m.text for m in log if m.direction == Direction.EVENT]
    assert any("answered with entry" in text for text in events)
    assert any("handed over: the customer asked for a person" in text for text in events)


async def test_faq_bot_hands_over_below_threshold(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"routing.rules": [FAQ_RULE]})
    agent_id, _ = await desk.agent("agent@example.com")
    opened = await desk.customer_writes("The invoice you sent me lists the wrong VAT number")
    assert (await desk.conversation(opened.conversation_id)).assignee_id == agent_id
    assert desk.sent("api") == []


class FakeRasa:
    """A Rasa REST webhook: echoes, and hands over when asked for an agent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.server: TestServer | None = None

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        if "agent" in body["message"]:
            reply: list[dict[str, Any]] = [
                {"recipient_id": body["sender"], "text": "Connecting you to a colleague."},
                {"recipient_id": body["sender"], "custom": {"handoff": True}},
            ]
        else:
            reply = [{"recipient_id": body["sender"], "text": f"Bot heard: {body['message']}"}]
        return web.json_response(reply)

    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/webhooks/rest/webhook"))


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    fake = FakeRasa()
    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", fake.webhook)
    fake.server = TestServer(app, host="127.0.0.1")
    await fake.server.start_server()
    yield fake
    await fake.server.close()


async def test_external_bot_relays_replies_and_hands_over(
    make_desk: MakeDesk, rasa: FakeRasa
) -> None:
    connector = {"url": rasa.url(), "channels": ["api"]}
    desk = await make_desk(**{"bots.connectors.rasa": connector})
    agent_id, _ = await desk.agent("agent@example.com")
    opened = await desk.customer_writes("hello bot")
    conversation_id = opened.conversation_id
    await desk.run_jobs()
    assert rasa.received[0]["message"] == "hello bot"
    [first] = await desk.wait_sent(1, channel="api")
    assert first.text == "Bot heard: hello bot\n"
    assert (await desk.conversation(conversation_id)).assignee_id is None

    await desk.customer_writes("please get me an agent")
    await desk.run_jobs()
    _, second = await desk.wait_sent(2, channel="api")
    assert second.text == "Connecting you to a colleague.\n"
    assert (await desk.conversation(conversation_id)).assignee_id == agent_id
    await desk.customer_writes("thanks")
    await desk.run_jobs()
    assert len(rasa.received) == 2  # the person has it now


async def test_an_external_bot_on_a_loopback_address_is_not_called(
    make_desk: MakeDesk, rasa: FakeRasa, caplog: pytest.LogCaptureFixture
) -> None:
    """With outgoing requests kept to public addresses (production), a connector configured at
    127.0.0.1 is refused: the hub warns at start, the bot gets nothing, and the conversation
    goes to a person at once with the refusal as the reason (no retries)."""
    connector = {"url": rasa.url(), "channels": ["api"]}
    with caplog.at_level(logging.WARNING):
        desk = await make_desk(
            **{"bots.connectors.rasa": connector, "outgoing.allow_private_targets": False}
        )
    agent_id, token = await desk.agent("agent@example.com")
    said = "bots.connectors.rasa.url: 127.0.0.1 is a loopback address: not allowed"
    assert any(said in record.getMessage() for record in caplog.records)
    opened = await desk.customer_writes("hello bot")
    await desk.run_jobs()
    assert rasa.received == []
    assert (await desk.conversation(opened.conversation_id)).assignee_id == agent_id
    timeline = await desk.client.get(
        f"/api/v1/conversations/{opened.conversation_id}/messages", headers=auth(token)
    )
    events = [m["text"] for m in (await timeline.json())["items"] if m["direction"] == "event"]
    refused = "refused to connect: 127.0.0.1 is a loopback address"
    assert any(f"Bot rasa handed over: bot not called: {refused}" in e for e in events), events
    assert any(refused in record.getMessage() for record in caplog.records)

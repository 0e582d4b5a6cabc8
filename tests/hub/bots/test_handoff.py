"""The handoff, enforced by the hub: a webhook bot answers with buttons, the customer picks one
with a number, the bot asks for a person; after that the bot's message is refused (409) and
reaches no one, agents are told on the live channel, and an agent can hand it back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.bots import signing
from hub.db.bots_models import BotSession
from hub.db.inbox_models import Event
from hub.db.models import Role
from tests.hub.bots.conftest import register
from tests.support.desk import Desk, MakeDesk, auth
from tests.support.fake_bot import FakeBot


async def state_of(desk: Desk, conversation_id: int) -> BotSession:
    async with desk.db.reader() as session:
        found = await session.get(BotSession, conversation_id)
        assert found is not None
        return found


def menu(body: Any) -> Any:
    if body.get("event") != "message.created":
        return {}
    return {
        "messages": [
            {
                "text": "Which plan are you on?",
                "buttons": [
                    {"title": "Basic", "payload": "plan_basic"},
                    {"title": "Pro", "payload": "plan_pro"},
                    {"title": "Pricing page", "url": "https://example.com/pricing"},
                ],
            }
        ]
    }


async def test_a_webhook_bot_answers_with_options_and_a_number_presses_one(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk()
    made = await register(
        desk, name="helper", kind="webhook", url=fake_bot.url("/events"), channels=["api"]
    )
    fake_bot.answer = menu
    opened = await desk.customer_writes("my invoice is wrong")
    await desk.run_jobs()
    assert [b["event"] for b in fake_bot.events()] == ["conversation.opened", "message.created"]
    first = fake_bot.received[1]
    stamp = first.headers[signing.TIMESTAMP]
    assert signing.verify(
        made["secret"], stamp, first.headers[signing.SIGNATURE], first.raw, float(stamp)
    ) is None  # fmt: skip
    [shown] = await desk.wait_sent(1, channel="api")
    assert "Which plan are you on?" in shown.text
    assert "1. Basic" in shown.text and "2. Pro" in shown.text
    assert "3. Pricing page (https://example.com/pricing)" in shown.text
    assert (await desk.conversation(opened.conversation_id)).assignee_id is None

    fake_bot.answer = lambda body: {}
    await desk.customer_writes("2")
    await desk.run_jobs()
    [pressed] = fake_bot.events("button.pressed")
    assert pressed["button"] == {"payload": "plan_pro"}
    assert pressed["conversation"]["id"] == opened.conversation_id


async def test_after_the_bot_hands_over_its_message_is_refused_and_reaches_no_one(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk()
    agent_id, agent = await desk.agent("agent@example.com")
    made = await register(
        desk, name="helper", kind="webhook", url=fake_bot.url("/events"), channels=["api"]
    )
    opened = await desk.customer_writes("hello")
    conversation_id = opened.conversation_id
    await desk.run_jobs()
    bot = auth(made["token"])
    path = f"/api/v1/bots/conversations/{conversation_id}/messages"
    said = await desk.client.post(
        path, json={"text": "Let me find a colleague.", "handoff": True, "reason": "billing"},
        headers=bot,
    )  # fmt: skip
    assert said.status == 201, await said.text()
    assert (await said.json())["state"] == "pending_human"
    assert (await desk.conversation(conversation_id)).assignee_id == agent_id
    state = await state_of(desk, conversation_id)
    assert (state.state, state.reason, state.detail) == ("pending_human", "bot_asked", "billing")
    async with desk.db.reader() as session:
        live = (await session.scalars(select(Event).where(Event.kind == "bot_handoff"))).all()
    assert [e.payload["reason"] for e in live] == ["bot_asked"]
    assert live[0].payload["reason_text"] == "the bot asked for a person"
    await desk.wait_sent(1, channel="api")

    refused = await desk.client.post(path, json={"text": "Anything else?"}, headers=bot)
    assert refused.status == 409
    assert (await refused.json())["error"]["fields"] == {"state": "pending_human"}
    await desk.run_jobs()
    assert desk.texts("api") == ["Let me find a colleague.\n"]
    await desk.customer_writes("still there?")
    await desk.run_jobs()
    assert fake_bot.events("message.created")[-1]["message"]["text"] == "hello"

    reply = await desk.client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json={"text": "Hi, Sam here."},
        headers=auth(agent),
    )  # fmt: skip
    assert reply.status in (200, 201), await reply.text()
    assert (await state_of(desk, conversation_id)).state == "human"
    refused = await desk.client.post(path, json={"text": "Me again"}, headers=bot)
    assert (await refused.json())["error"]["fields"] == {"state": "human"}

    back = await desk.client.post(
        f"/api/v1/conversations/{conversation_id}/handback", json={}, headers=auth(agent)
    )
    assert back.status == 200, await back.text()
    assert (await back.json())["state"] == "bot"
    await desk.run_jobs()
    assert [e["event"] for e in fake_bot.events()][-2:] == [
        "conversation.handoff",
        "conversation.handback",
    ]
    again = await desk.client.post(path, json={"text": "I am back."}, headers=bot)
    assert again.status == 201


async def test_the_customer_asks_for_a_person_in_their_own_words(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk()
    agent_id, _ = await desk.agent("agent@example.com")
    await register(
        desk, name="helper", kind="webhook", url=fake_bot.url("/events"), channels=["api"]
    )
    opened = await desk.customer_writes("Hallo")
    await desk.customer_writes("Ich möchte bitte mit einem Mensch sprechen")
    await desk.run_jobs()
    state = await state_of(desk, opened.conversation_id)
    assert (state.state, state.reason) == ("pending_human", "customer_asked")
    assert (await desk.conversation(opened.conversation_id)).assignee_id == agent_id
    assert [e["event"] for e in fake_bot.events()] == [
        "conversation.opened",
        "message.created",
        "conversation.handoff",
    ]


async def test_a_bot_that_times_out_hands_the_conversation_over(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk()
    agent_id, _ = await desk.agent("agent@example.com")
    made = await register(
        desk, name="sleepy", kind="webhook", url=fake_bot.url("/slow"), channels=["api"],
        timeout_ms=200,
    )  # fmt: skip
    fake_bot.delay = 1.0
    fake_bot.answer = lambda body: {"messages": [{"text": "too late"}]}
    opened = await desk.customer_writes("hello?")
    await desk.run_jobs()
    state = await state_of(desk, opened.conversation_id)
    assert (state.state, state.reason) == ("pending_human", "bot_timeout")
    assert (await desk.conversation(opened.conversation_id)).assignee_id == agent_id
    assert desk.sent("api") == []
    _, admin = await desk.agent("admin2@example.com", role=Role.ADMIN, capacity=0)
    log = await desk.client.get(f"/api/v1/bots/{made['id']}/deliveries", headers=auth(admin))
    outcomes = {(d["event"], d["outcome"]) for d in (await log.json())["deliveries"]}
    assert ("message.created", "timeout") in outcomes

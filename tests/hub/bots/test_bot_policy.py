"""A bot's policy, set by an admin: it serves during its hours (outside them a new conversation
goes straight to people); a conversation it handed over and a person resolved comes back to it
when the customer writes again (where configured); and after N turns without progress (its
fallback answer, or the same answer again) the hub hands the conversation to a person."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from hub.db.inbox_models import Event
from hub.db.models import Message
from tests.hub.bots.conftest import register
from tests.hub.bots.test_handoff import state_of
from tests.support.desk import Desk, MakeDesk, auth
from tests.support.fake_bot import FakeBot

OFFICE = {
    "timezone": "Europe/Berlin",
    "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
}


async def handoff_events(desk: Desk) -> list[dict[str, Any]]:
    async with desk.db.reader() as session:
        found = await session.scalars(select(Event).where(Event.kind == "bot_handoff"))
        return [dict(e.payload) for e in found]


async def test_outside_its_hours_a_bot_leaves_new_conversations_to_people(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk(**{"calendars.office": OFFICE})
    agent_id, _ = await desk.agent("agent@example.com")
    await register(
        desk, name="daybot", kind="webhook", url=fake_bot.url("/events"), channels=["api"],
        hours="office",
    )  # fmt: skip
    morning = await desk.customer_writes("hello")  # Monday 10:00 in Berlin
    assert (await state_of(desk, morning.conversation_id)).state == "bot"
    assert (await desk.conversation(morning.conversation_id)).assignee_id is None

    desk.clock.advance(timedelta(hours=10))  # 20:00 in Berlin
    evening = await desk.customer_writes("anyone there?", sender="late@example.com")
    await desk.run_jobs()
    state = await state_of(desk, evening.conversation_id)
    assert (state.state, state.reason) == ("pending_human", "outside_bot_hours")
    assert (await desk.conversation(evening.conversation_id)).assignee_id == agent_id
    conversations = {e["conversation"]["id"] for e in fake_bot.events()}
    assert conversations == {morning.conversation_id}


async def test_a_bot_hours_must_name_a_calendar(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"calendars.office": OFFICE})
    _, admin = await desk.agent("admin@example.com", role="admin", capacity=0)
    made = await desk.client.post(
        "/api/v1/bots", json={"name": "x", "kind": "faq", "hours": "nights"}, headers=auth(admin)
    )
    assert made.status == 422
    assert "hours" in (await made.json())["error"]["fields"]


async def test_a_resolved_conversation_comes_back_to_the_bot_when_the_customer_writes_again(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk()
    _, agent = await desk.agent("agent@example.com")
    await register(
        desk, name="helper", kind="webhook", url=fake_bot.url("/events"), channels=["api"],
        handback_on_resolve=True,
    )  # fmt: skip
    opened = await desk.customer_writes("I want to talk to a person", thread_key="chat-7")
    conversation_id = opened.conversation_id
    assert (await state_of(desk, conversation_id)).state == "pending_human"
    base = f"/api/v1/conversations/{conversation_id}"
    reply = await desk.client.post(f"{base}/messages", json={"text": "Hi!"}, headers=auth(agent))
    assert reply.status in (200, 201), await reply.text()
    assert (await state_of(desk, conversation_id)).state == "human"
    await desk.customer_writes("thanks, one more thing", thread_key="chat-7")
    assert (await state_of(desk, conversation_id)).state == "human"  # not resolved yet

    resolved = await desk.client.patch(base, json={"status": "resolved"}, headers=auth(agent))
    assert resolved.status == 200, await resolved.text()
    again = await desk.customer_writes("where is my parcel?", thread_key="chat-7")
    assert again.conversation_id == conversation_id
    await desk.run_jobs()
    state = await state_of(desk, conversation_id)
    assert (state.state, state.bot_id) == ("bot", state.bot_id)
    assert [e["event"] for e in fake_bot.events()][-2:] == [
        "conversation.handback",
        "message.created",
    ]
    assert fake_bot.events("message.created")[-1]["message"]["text"] == "where is my parcel?"
    assert (await handoff_events(desk))[-1]["reason"] == "resolved"


async def test_the_bot_gets_a_resolved_conversation_back_whatever_its_timeline_says(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    """The handback follows the status change itself: a timeline worded otherwise (another
    language, a new wording) changes nothing."""
    desk = await make_desk()
    _, agent = await desk.agent("agent@example.com")
    await register(
        desk, name="helper", kind="webhook", url=fake_bot.url("/events"), channels=["api"],
        handback_on_resolve=True,
    )  # fmt: skip
    opened = await desk.customer_writes("talk to a person please", thread_key="chat-9")
    conversation_id = opened.conversation_id
    base = f"/api/v1/conversations/{conversation_id}"
    await desk.client.post(f"{base}/messages", json={"text": "Hi!"}, headers=auth(agent))

    resolved = await desk.client.patch(base, json={"status": "resolved"}, headers=auth(agent))
    assert resolved.status == 200, await resolved.text()
    async with desk.db.writer() as session:  # the timeline shown in German
        await session.execute(
            update(Message)
            .where(Message.conversation_id == conversation_id, Message.direction == "event")
            .values(text="Status geändert")
        )
        await session.commit()
    await desk.customer_writes("where is my parcel?", thread_key="chat-9")
    await desk.run_jobs()
    assert (await state_of(desk, conversation_id)).state == "bot"
    assert (await handoff_events(desk))[-1]["reason"] == "resolved"


async def test_without_handback_on_resolve_people_keep_the_conversation(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk()
    _, agent = await desk.agent("agent@example.com")
    await register(
        desk, name="helper", kind="webhook", url=fake_bot.url("/events"), channels=["api"]
    )
    opened = await desk.customer_writes("talk to a person please", thread_key="chat-8")
    base = f"/api/v1/conversations/{opened.conversation_id}"
    await desk.client.post(f"{base}/messages", json={"text": "Hi!"}, headers=auth(agent))
    await desk.client.patch(base, json={"status": "resolved"}, headers=auth(agent))
    await desk.customer_writes("hello again", thread_key="chat-8")
    await desk.run_jobs()
    assert (await state_of(desk, opened.conversation_id)).state == "human"
    assert fake_bot.events("message.created") == []


async def test_a_bot_that_keeps_not_understanding_is_taken_off_the_conversation(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk()
    agent_id, _ = await desk.agent("agent@example.com")
    await register(
        desk, name="helper", kind="webhook", url=fake_bot.url("/events"), channels=["api"],
        max_turns_without_progress=2,
    )  # fmt: skip
    fake_bot.answer = lambda body: (
        {
            "messages": [{"text": f"Sorry, I did not get '{body['message']['text']}'"}],
            "understood": False,
        }
        if "message" in body
        else {}
    )
    opened = await desk.customer_writes("blorp")
    await desk.run_jobs()
    assert (await state_of(desk, opened.conversation_id)).state == "bot"
    await desk.customer_writes("zzzt")
    await desk.run_jobs()
    state = await state_of(desk, opened.conversation_id)
    assert (state.state, state.reason) == ("pending_human", "no_progress")
    assert (await desk.conversation(opened.conversation_id)).assignee_id == agent_id
    [event] = await handoff_events(desk)
    assert event["reason"] == "no_progress"
    assert event["reason_text"] == "the bot made no progress"
    assert [line["who"] for line in event["transcript"]] == [
        "customer",
        "helper",
        "customer",
        "helper",
    ]
    assert event["transcript"][2]["text"] == "zzzt"


async def test_the_same_answer_again_is_no_progress(make_desk: MakeDesk, fake_bot: FakeBot) -> None:
    desk = await make_desk()
    await desk.agent("agent@example.com")
    await register(
        desk, name="helper", kind="webhook", url=fake_bot.url("/events"), channels=["api"],
        max_turns_without_progress=2,
    )  # fmt: skip
    fake_bot.answer = lambda body: {"messages": [{"text": "Please choose a plan."}]}
    opened = await desk.customer_writes("hi")
    for text in ("what?", "I don't know"):
        await desk.run_jobs()
        assert (await state_of(desk, opened.conversation_id)).state == "bot"
        await desk.customer_writes(text)
    await desk.run_jobs()
    state = await state_of(desk, opened.conversation_id)
    assert (state.state, state.reason) == ("pending_human", "no_progress")


async def test_a_rasa_fallback_counts_as_a_turn_without_progress(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk()
    await desk.agent("agent@example.com")
    await register(
        desk, name="rasa", kind="rasa", url=fake_bot.url("/webhooks/rest/webhook"),
        channels=["api"], max_turns_without_progress=1,
    )  # fmt: skip
    fake_bot.answer = lambda body: [
        {"recipient_id": body["sender"], "text": "Sorry, I didn't get that.",
         "custom": {"intent": "nlu_fallback"}},
    ]  # fmt: skip
    opened = await desk.customer_writes("qwerty")
    await desk.run_jobs()
    state = await state_of(desk, opened.conversation_id)
    assert (state.state, state.reason) == ("pending_human", "no_progress")
    assert "Sorry, I didn't get that." in desk.texts("api")[0]

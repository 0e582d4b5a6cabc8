"""What a bot cannot do and what supervisors see: a bot message with too many buttons, an unknown
element or a bad link is refused naming the field and nothing is sent; a bot that keeps failing
is taken off the conversation; the SLA first-response clock starts at the handoff; the figures
show containment, handoff reasons and the bot's response time per bot and channel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hub.core.conversations import set_status
from hub.db.models import Conversation, ConversationStatus, Role
from hub.db.routing_models import SlaClock
from tests.hub.bots.conftest import register
from tests.hub.bots.test_handoff import state_of
from tests.support.desk import Desk, MakeDesk, auth
from tests.support.fake_bot import FakeBot

SLA = [{"name": "standard", "first_response_minutes": 60, "resolution_minutes": 480}]


async def opened_by_bot(desk: Desk, fake_bot: FakeBot) -> tuple[int, dict[str, str]]:
    made = await register(
        desk, name="helper", kind="webhook", url=fake_bot.url("/events"), channels=["api"]
    )
    opened = await desk.customer_writes("hello")
    await desk.run_jobs()
    return opened.conversation_id, auth(made["token"])


async def test_a_bot_message_beyond_the_limits_is_refused_naming_the_field(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk()
    conversation_id, bot = await opened_by_bot(desk, fake_bot)
    path = f"/api/v1/bots/conversations/{conversation_id}/messages"
    eleven = [{"title": f"Option {i}", "payload": f"o{i}"} for i in range(11)]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"text": "Pick one", "buttons": eleven}, "buttons"),
        ({"text": "Pick", "buttons": [{"title": "Go", "url": "ftp://example.com"}]}, "buttons"),
        ({"text": "Hi", "card": {"title": "Unknown"}}, "card"),
        ({"text": "x" * 4097}, "text"),
        ({"text": ""}, "text"),
    ]
    for body, field in cases:
        refused = await desk.client.post(path, json=body, headers=bot)
        assert refused.status == 422, (body, await refused.text())
        error = (await refused.json())["error"]
        assert any(name.startswith(field) for name in error.get("fields", {})), error
    wrong = await desk.client.post(path, json={"text": "hi"}, headers=auth("rdb_not-a-token"))
    assert wrong.status == 401
    await desk.run_jobs()
    assert desk.sent("api") == []


async def test_a_bot_that_keeps_failing_is_taken_off_the_conversation(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk()
    agent_id, _ = await desk.agent("agent@example.com")
    await register(desk, name="broken", kind="webhook", url=fake_bot.url("/events"),
                   channels=["api"], max_errors=2)  # fmt: skip
    fake_bot.answer = lambda body: {"messages": "not a list"}
    opened = await desk.customer_writes("hello")
    await desk.run_jobs()
    assert (await state_of(desk, opened.conversation_id)).state == "bot"
    await desk.customer_writes("anyone?")
    await desk.run_jobs()
    state = await state_of(desk, opened.conversation_id)
    assert (state.state, state.reason) == ("pending_human", "bot_errors")
    assert "messages" in (state.detail or "")
    assert (await desk.conversation(opened.conversation_id)).assignee_id == agent_id


async def test_the_first_response_clock_starts_at_the_handoff(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk(sla_policies=SLA)
    await desk.agent("agent@example.com")
    conversation_id, _ = await opened_by_bot(desk, fake_bot)
    desk.clock.advance(timedelta(minutes=45))
    await desk.customer_writes("talk to a person please")
    async with desk.db.reader() as session:
        clock = await session.get(SlaClock, conversation_id)
        assert clock is not None and clock.started_at == desk.clock.now()
    conversation = await desk.conversation(conversation_id)
    assert conversation.sla_due_at == desk.clock.now() + timedelta(minutes=60)


async def test_figures_show_containment_handoff_reasons_and_response_time(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk()
    _, supervisor = await desk.agent("sup@example.com", role=Role.SUPERVISOR, capacity=0)
    await desk.agent("agent@example.com")
    fake_bot.answer = lambda body: (
        {"messages": [{"text": "Done!"}]} if body["event"] == "message.created" else {}
    )
    first, _ = await opened_by_bot(desk, fake_bot)
    second = await desk.customer_writes("I need an agent", sender="bob@example.com")
    third = await desk.customer_writes("question", sender="eve@example.com")
    await desk.run_jobs()
    for conversation_id in (first, third.conversation_id):
        async with desk.db.writer() as session:
            conversation = await session.get(Conversation, conversation_id)
            assert conversation is not None
            await set_status(session, conversation, ConversationStatus.RESOLVED, desk.clock.now())
            await session.commit()
    assert second.conversation_id
    answer = await desk.client.get("/api/v1/bots/figures?days=7", headers=auth(supervisor))
    assert answer.status == 200, await answer.text()
    [figure] = (await answer.json())["figures"]
    assert (figure["bot"], figure["channel"]) == ("helper", "api")
    assert (figure["conversations"], figure["contained"]) == (3, 2)
    assert figure["containment_rate"] == 0.6667
    assert figure["handoffs"] == {"customer_asked": 1}
    assert figure["response_ms_p95"] is not None
    agent_only = await desk.client.get(
        "/api/v1/bots/figures", headers=auth((await desk.agent("a2@example.com"))[1])
    )
    assert agent_only.status == 403

"""Every event an integration can subscribe to arrives, signed, whoever made the change: an
agent through the API, routing at ingest, a follow-up job, a bot asking for a person, a
customer rating the conversation. A subscription hears only the events it chose."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hub.routing import csat
from tests.hub.integrations.conftest import arrived, deliver, names, subscribe
from tests.support.desk import Desk, MakeDesk, auth
from tests.support.recorder import HttpRecorder


def new_bodies(receiver: HttpRecorder, secret: str) -> list[dict[str, Any]]:
    """What arrived since the last look (and forget it)."""
    bodies = arrived(receiver, secret)
    receiver.requests.clear()
    return bodies


def one(bodies: list[dict[str, Any]], event: str) -> dict[str, Any]:
    found = [body for body in bodies if body["event"] == event]
    assert len(found) == 1, names(bodies)
    return found[0]


async def patch(desk: Desk, token: str, conversation_id: int, **change: Any) -> None:
    answer = await desk.client.patch(
        f"/api/v1/conversations/{conversation_id}", json=change, headers=auth(token)
    )
    assert answer.status == 200, await answer.text()


async def test_every_change_an_agent_makes_through_the_api_arrives_signed(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    desk = await make_desk()
    sub = await subscribe(desk, receiver)
    agent_id, token = await desk.agent("agent@example.com")

    opened = await desk.customer_writes("My order never arrived")
    conversation_id = opened.conversation_id
    await deliver(desk)
    bodies = new_bodies(receiver, sub.secret)
    created = one(bodies, "conversation.created")
    assert created["version"] == 1 and created["data"]["conversation"]["id"] == conversation_id
    inbound = [b["data"]["message"] for b in bodies if b["event"] == "message.created"]
    assert any(
        m["direction"] == "inbound" and m["text"] == "My order never arrived" for m in inbound
    )
    assigned = one(bodies, "conversation.assigned")["data"]  # routing gave it to the agent
    assert (assigned["assignee_id"], assigned["previous_assignee_id"]) == (agent_id, None)
    assert len({body["id"] for body in bodies}) == len(bodies)

    reply = await desk.client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "Which order?"},
        headers=auth(token),
    )
    assert reply.status == 201
    await deliver(desk)
    [message] = [b["data"]["message"] for b in new_bodies(receiver, sub.secret)]
    assert (message["direction"], message["text"], message["author_agent_id"]) == (
        "outbound", "Which order?", agent_id,
    )  # fmt: skip

    await patch(desk, token, conversation_id, status="pending")
    await deliver(desk)
    bodies = new_bodies(receiver, sub.secret)
    assert sorted(names(bodies)) == [
        "conversation.status_changed", "conversation.updated", "ticket.updated",
    ]  # fmt: skip
    changed = one(bodies, "conversation.status_changed")["data"]
    assert (changed["status"], changed["previous_status"], changed["actor_id"]) == (
        "pending", "open", agent_id,
    )  # fmt: skip
    assert one(bodies, "conversation.updated")["data"]["changed"] == ["status"]
    ticket = one(bodies, "ticket.updated")["data"]
    assert (ticket["ticket"]["status"], ticket["changed"]) == ("pending", ["status"])

    await patch(desk, token, conversation_id, priority="urgent")
    await deliver(desk)
    bodies = new_bodies(receiver, sub.secret)
    assert sorted(names(bodies)) == ["conversation.updated", "ticket.updated"]
    updated = one(bodies, "conversation.updated")["data"]
    assert updated["changed"] == ["priority"] and updated["previous"] == {"priority": "normal"}
    assert updated["conversation"]["priority"] == "urgent"

    await patch(desk, token, conversation_id, assignee_id=None)
    await deliver(desk)
    unassigned = one(new_bodies(receiver, sub.secret), "conversation.assigned")["data"]
    assert (unassigned["assignee_id"], unassigned["previous_assignee_id"]) == (None, agent_id)

    await patch(desk, token, conversation_id, status="resolved")
    signature = csat.signature(desk.settings.secret_key, conversation_id)
    rated = await desk.client.get(f"/csat/{conversation_id}/5?sig={signature}")
    assert rated.status == 200
    await deliver(desk)
    bodies = new_bodies(receiver, sub.secret)
    assert one(bodies, "conversation.status_changed")["data"]["status"] == "resolved"
    assert one(bodies, "csat.received")["data"]["csat"] == {"score": 5, "via": "link"}


async def test_routing_and_follow_up_jobs_send_the_same_events(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    close = {"name": "close", "trigger": "pending", "action": "resolve", "delay_minutes": 60}
    desk = await make_desk(**{"followups.rules": [close]})
    sub = await subscribe(desk, receiver, ["conversation.status_changed"])
    _, token = await desk.agent("agent@example.com")
    opened = await desk.customer_writes("Where is my parcel?", thread_key="order-1")
    await patch(desk, token, opened.conversation_id, status="pending")
    await desk.run_jobs()  # the status change schedules the follow-up
    desk.clock.advance(timedelta(minutes=61))
    await desk.run_jobs()  # the follow-up resolves it: no person, no API call
    await deliver(desk)
    bodies = arrived(receiver, sub.secret)
    assert [(b["data"]["status"], b["data"]["actor_id"]) for b in bodies] == [
        ("pending", 2),
        ("resolved", None),
    ]
    # A later customer message reopens it (ingest): that change is sent too.
    receiver.requests.clear()
    await desk.customer_writes("Still nothing!", thread_key="order-1")
    await deliver(desk)
    [reopened] = arrived(receiver, sub.secret)
    assert (reopened["data"]["previous_status"], reopened["data"]["status"]) == ("resolved", "open")


async def test_a_subscription_hears_only_what_it_chose_and_from_its_creation_on(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    desk = await make_desk()
    await desk.customer_writes("before anyone subscribed")
    sub = await subscribe(desk, receiver, ["conversation.created"])
    await deliver(desk)
    assert receiver.requests == []
    await desk.customer_writes("hello", sender="bob@example.com")
    await deliver(desk)
    assert names(arrived(receiver, sub.secret)) == ["conversation.created"]


async def test_a_bot_handing_over_to_people_sends_a_handoff(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    from tests.hub.bots.conftest import register
    from tests.support.fake_bot import FakeBot

    bot_server = FakeBot()
    await bot_server.start()
    try:
        desk = await make_desk()
        await desk.agent("agent@example.com")
        sub = await subscribe(desk, receiver, ["conversation.handoff"])
        made = await register(
            desk, name="helper", kind="webhook", url=bot_server.url("/events"), channels=["api"]
        )
        opened = await desk.customer_writes("hello")
        await desk.run_jobs()
        said = await desk.client.post(
            f"/api/v1/bots/conversations/{opened.conversation_id}/messages",
            json={"text": "Let me find a colleague.", "handoff": True, "reason": "billing"},
            headers=auth(made["token"]),
        )
        assert said.status == 201, await said.text()
        await deliver(desk)
        [handoff] = arrived(receiver, sub.secret)
        assert handoff["data"]["handoff"]["state"] == "pending_human"
        assert handoff["data"]["handoff"]["reason"] == "bot_asked"
        assert handoff["data"]["conversation"]["id"] == opened.conversation_id
    finally:
        await bot_server.stop()

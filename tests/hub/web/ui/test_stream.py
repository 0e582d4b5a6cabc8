"""Live updates over server-sent events: new messages, assignments and status changes reach
every open inbox at once, only agents who may see the conversation hear of it, a reconnect with
Last-Event-ID replays what was missed, a reply's delivery state (failed, with the reason) reaches
the open page, and two agents replying at once are warned, even when served by two processes."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from hub.config.settings import Settings
from hub.db.inbox_models import Event
from hub.db.models import Conversation, Message, Role
from hub.platform.events import publish
from hub.web.ui import collision
from tests.hub.web.ui.conftest import PASSWORD, Ui, UiFactory, inbound, sign_in
from tests.support.desk import Desk, MakeDesk
from tests.support.smtp import SmtpSink

EVENT_ID = re.compile(r'data-event-id="(\d+)"')


@dataclass(frozen=True)
class Sse:
    id: str | None
    kind: str
    data: dict[str, Any]


async def next_event(response: aiohttp.ClientResponse, timeout: float = 5.0) -> Sse:
    """The next event that carries data (comments and bare ``id:`` lines are skipped)."""

    async def read() -> Sse:
        fields: dict[str, str] = {}
        while True:
            line = (await response.content.readline()).decode().rstrip("\n")
            if line == "":
                if "data" in fields:
                    return Sse(
                        fields.get("id"), fields.get("event", "message"), json.loads(fields["data"])
                    )
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            fields[name] = value

    return await asyncio.wait_for(read(), timeout)


async def open_stream(ui: Ui, last_id: str | None = None) -> aiohttp.ClientResponse:
    headers = {"Accept": "text/event-stream"}
    if last_id is not None:
        headers["Last-Event-ID"] = last_id
    response = await ui.http.get("/ui/events", headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return response


async def events_until(response: aiohttp.ClientResponse, kind: str) -> list[Sse]:
    seen: list[Sse] = []
    while not seen or seen[-1].kind != kind:
        seen.append(await next_event(response))
    return seen


async def test_new_message_and_changes_arrive_live(desk: Desk, ui_agent: UiFactory) -> None:
    sue = await ui_agent("sue@example.com", teams=("support",))
    bob = await ui_agent("bob@example.com", teams=("billing",))
    sue_stream, bob_stream = await open_stream(sue), await open_stream(bob)
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await inbound(desk, "Printer is smoking")
    event = await next_event(sue_stream, timeout=1.0)
    assert loop.time() - started < 1.0
    assert event.data["conversation_id"] == result.conversation_id
    assert event.id is not None and event.id.isdigit()

    billing = await inbound(desk, "invoice problem", email="t@example.com")
    bob_seen = await events_until(bob_stream, "message")
    assert {e.data["conversation_id"] for e in bob_seen} == {billing.conversation_id}

    base = f"/ui/conversations/{result.conversation_id}"
    assert (await sue.post(f"{base}/status", {"status": "resolved"})).status == 303
    changes = []
    while not any(e.data.get("text") == "Status changed to resolved" for e in changes):
        changes.append(await next_event(sue_stream, timeout=1.0))
    # Bob (billing) heard nothing of the support conversation at any point.
    assert all(e.data["conversation_id"] != result.conversation_id for e in bob_seen)
    sue_stream.close()
    bob_stream.close()


async def test_reconnect_replays_missed_events(desk: Desk, ui_agent: UiFactory) -> None:
    boss = await ui_agent("boss@example.com", role=Role.ADMIN, teams=())
    stream = await open_stream(boss)
    first = await inbound(desk, "first")
    seen = await events_until(stream, "message")
    last_id = seen[-1].id
    assert last_id is not None
    stream.close()

    missed = [await inbound(desk, f"while away {n}", email=f"m{n}@example.com") for n in range(3)]
    again = await open_stream(boss, last_id)
    replayed: list[Sse] = []
    wanted = {m.conversation_id for m in missed}
    while wanted - {e.data["conversation_id"] for e in replayed if e.kind == "message"}:
        replayed.append(await next_event(again, timeout=2.0))
    # Nothing from before the reconnect comes again (the first conversation's acknowledgement
    # may be delivered meanwhile: that "delivery" event is new).
    assert first.conversation_id not in {
        e.data["conversation_id"] for e in replayed if e.kind == "message"
    }
    ids = [int(e.id) for e in replayed if e.id is not None]
    assert ids == sorted(ids) and min(ids) > int(last_id)
    again.close()


async def test_two_agents_replying_are_warned(desk: Desk, ui_agent: UiFactory) -> None:
    sue = await ui_agent("sue@example.com")
    max_ = await ui_agent("max@example.com")
    cid = (await inbound(desk, "Who answers?")).conversation_id
    stream = await open_stream(max_)
    response = await sue.http.post(
        f"/ui/conversations/{cid}/typing",
        headers={"X-CSRF-Token": sue.token, "Accept": "application/json"},
    )
    assert response.status == 200
    assert await response.json() == {"others": []}
    typing = await events_until(stream, "typing")
    assert typing[-1].data == {
        "kind": "typing",
        "conversation_id": cid,
        "agent_id": sue.agent_id,
        "name": "Sue",
        "stopped": False,
    }
    assert typing[-1].id is not None  # stored, so other processes hear of it too
    page = await max_.page(f"/ui/conversations/{cid}")
    assert '<div class="collision" id="collision" role="alert" >' in page
    assert "<strong data-collision-names>Sue</strong>" in page
    own = await sue.page(f"/ui/conversations/{cid}")
    assert '<div class="collision" id="collision" role="alert" hidden>' in own
    stream.close()


async def test_failed_delivery_arrives_on_the_open_page_stream(
    desk: Desk, ui_agent: UiFactory, smtp_sink: SmtpSink
) -> None:
    sue = await ui_agent("sue@example.com")
    bob = await ui_agent("bob@example.com", teams=("billing",))
    cid = (await inbound(desk, "Are you there?")).conversation_id
    acks = len(await smtp_sink.wait_for(1))
    stream, other = await open_stream(sue), await open_stream(bob)
    before = await sue.page(f"/ui/conversations/{cid}")
    smtp_sink.reject_with = "550 5.1.1 mailbox unavailable"
    assert (await sue.post(f"/ui/conversations/{cid}/reply", {"text": "Yes we are"})).status == 303

    seen = await events_until_state(
        stream, "failed"
    )  # (the acknowledgement's "sent" may come first)
    delivery = seen[-1].data
    assert seen[-1].kind == "delivery" and delivery["conversation_id"] == cid
    assert "mailbox unavailable" in delivery["error"]
    # The page re-renders its live part on the event: the message shows why it failed.
    async with desk.hub.db.reader() as session:
        message = await session.get(Message, delivery["message_id"])
        assert message is not None and message.text.startswith("Yes we are")
    live = await sue.page(f"/ui/conversations/{cid}/live")
    assert f'id="m{delivery["message_id"]}" data-state="failed"' in live
    assert "mailbox unavailable" in live
    # An agent outside the conversation's team hears nothing of it.
    with pytest.raises(TimeoutError):
        await next_event(other, timeout=0.5)
    # A page rendered before the failure was committed catches up from the id it was rendered
    # at (its stream starts there), so the state cannot slip between render and connect.
    rendered = EVENT_ID.search(before)
    assert rendered is not None
    late = await open_stream(sue, rendered.group(1))
    caught = await events_until_state(late, "failed")
    assert caught[-1].data["message_id"] == delivery["message_id"]
    late.close()

    smtp_sink.reject_with = None
    assert (await sue.post(f"/ui/messages/{delivery['message_id']}/retry")).status == 303
    states = [e.data.get("state") for e in await events_until_state(stream, "sent")]
    assert states[-1] == "sent"
    assert len(await smtp_sink.wait_for(acks + 1)) == acks + 1


async def events_until_state(response: aiohttp.ClientResponse, state: str) -> list[Sse]:
    seen: list[Sse] = []
    while not seen or seen[-1].data.get("state") != state:
        seen.append(await next_event(response))
    return seen


async def test_collision_warning_reaches_an_agent_served_by_another_process(
    desk: Desk,
    ui_agent: UiFactory,
    settings: Settings,
    make_desk: MakeDesk,
) -> None:
    sue = await ui_agent("sue@example.com")
    max_id = (await ui_agent("max@example.com")).agent_id
    cid = (await inbound(desk, "Who answers?")).conversation_id
    other = (await make_desk(settings=settings)).client  # a second hub on the same database
    async with aiohttp.ClientSession(
        base_url=str(other.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as http:
        assert (await sign_in(http, "max@example.com", PASSWORD)).status == 303
        max_ = Ui(http, max_id)
        stream = await open_stream(max_)
        typed = await sue.http.post(
            f"/ui/conversations/{cid}/typing",
            headers={"X-CSRF-Token": sue.token, "Accept": "application/json"},
        )
        assert typed.status == 200
        typing = await events_until(stream, "typing")
        assert typing[-1].data["agent_id"] == sue.agent_id
        page = await max_.page(f"/ui/conversations/{cid}")
        assert "<strong data-collision-names>Sue</strong>" in page
        response = await max_.http.post(
            f"/ui/conversations/{cid}/typing",
            headers={"X-CSRF-Token": max_.token, "Accept": "application/json"},
        )
        assert await response.json() == {"others": ["Sue"]}
        stream.close()

        # A signal older than the warning lasts is not replayed to a page that reconnects.
        async with desk.hub.db.writer() as session:
            conversation = await session.get(Conversation, cid)
            assert conversation is not None
            stale = desk.hub.clock.now() - timedelta(seconds=60)
            await collision.signal(session, conversation, sue.agent_id, "Sue", stale)
            await session.flush()
            last = int(await session.scalar(select(func.max(Event.id))) or 0)
            await publish(session, "tags", conversation, desk.hub.clock.now())
            await session.commit()
        again = await open_stream(max_, str(last - 1))
        replayed = await events_until(again, "tags")
        assert [e.kind for e in replayed] == ["tags"]
        page = await max_.page(f"/ui/conversations/{cid}")
        assert "<strong data-collision-names>Sue</strong>" in page  # the fresh signal still holds
        again.close()


async def test_a_closed_tab_leaves_no_traceback(
    desk: Desk, ui_agent: UiFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue #14 item 11: the agent reads an event, closes the tab; the next events the hub
    would have sent it are dropped quietly, and the next page still works."""
    # Served as `relaydesk serve` serves (web.run_app): a lost connection does not cancel the
    # handler (the test server's default does), so the stream learns of it when it writes.
    server = desk.client.server.runner.server
    assert server is not None
    server.handler_cancellation = False
    boss = await ui_agent("closer@example.com", role=Role.ADMIN, teams=())
    stream = await open_stream(boss)
    await inbound(desk, "first")
    await events_until(stream, "message")
    stream.close()
    caplog.clear()
    for n in range(3):  # the hub writes to the closed stream: each write finds it gone
        await inbound(desk, f"after the tab closed {n}", email=f"gone{n}@example.com")
        await asyncio.sleep(0.05)
    metrics = desk.hub.metrics
    labels = {"process": metrics.process, "kind": "agent"}
    for _ in range(200):  # until the hub has let go of the stream
        if metrics.registry.get_sample_value("relaydesk_live_connections", labels) == 0:
            break
        await asyncio.sleep(0.02)
    assert metrics.registry.get_sample_value("relaydesk_live_connections", labels) == 0
    await boss.page("/ui/inbox")
    problems = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert problems == [], [r.getMessage() for r in problems]

"""Live updates over server-sent events: new messages, assignments and status changes reach
every open inbox at once, only agents who may see the conversation hear of it, a reconnect with
Last-Event-ID replays what was missed, and two agents replying at once are warned."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from hub.db.models import Role
from tests.conftest import Running
from tests.hub.web.ui.conftest import Ui, UiFactory, inbound


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


async def test_new_message_and_changes_arrive_live(running: Running, ui_agent: UiFactory) -> None:
    sue = await ui_agent("sue@example.com", teams=("support",))
    bob = await ui_agent("bob@example.com", teams=("billing",))
    sue_stream, bob_stream = await open_stream(sue), await open_stream(bob)
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await inbound(running, "Printer is smoking")
    event = await next_event(sue_stream, timeout=1.0)
    assert loop.time() - started < 1.0
    assert event.data["conversation_id"] == result.conversation_id
    assert event.id is not None and event.id.isdigit()

    billing = await inbound(running, "invoice problem", email="t@example.com")
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


async def test_reconnect_replays_missed_events(running: Running, ui_agent: UiFactory) -> None:
    boss = await ui_agent("boss@example.com", role=Role.ADMIN, teams=())
    stream = await open_stream(boss)
    first = await inbound(running, "first")
    seen = await events_until(stream, "message")
    last_id = seen[-1].id
    assert last_id is not None
    stream.close()

    missed = [
        await inbound(running, f"while away {n}", email=f"m{n}@example.com") for n in range(3)
    ]
    again = await open_stream(boss, last_id)
    replayed: list[Sse] = []
    wanted = {m.conversation_id for m in missed}
    while wanted - {e.data["conversation_id"] for e in replayed if e.kind == "message"}:
        replayed.append(await next_event(again, timeout=2.0))
    assert first.conversation_id not in {e.data["conversation_id"] for e in replayed}
    ids = [int(e.id) for e in replayed if e.id is not None]
    assert ids == sorted(ids) and min(ids) > int(last_id)
    again.close()


async def test_two_agents_replying_are_warned(running: Running, ui_agent: UiFactory) -> None:
    sue = await ui_agent("sue@example.com")
    max_ = await ui_agent("max@example.com")
    cid = (await inbound(running, "Who answers?")).conversation_id
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
    assert typing[-1].id is None
    page = await max_.page(f"/ui/conversations/{cid}")
    assert '<div class="collision" id="collision" role="alert" >' in page
    assert "<strong data-collision-names>Sue</strong>" in page
    own = await sue.page(f"/ui/conversations/{cid}")
    assert '<div class="collision" id="collision" role="alert" hidden>' in own
    stream.close()

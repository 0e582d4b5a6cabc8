"""Server-sent events for open inboxes and conversation pages. A stream subscribes first, then
replays stored events after ``Last-Event-ID`` (or ``?after=``), then follows the live ones, so
a page that lost its connection misses nothing. Each event is sent only to agents allowed to
see its conversation; a stream whose session has ended stops (at once when the agent is
deactivated, else at its next heartbeat), and the page goes to sign-in. A page that goes away
(a closed tab) ends its stream quietly: the next write finds the connection closed."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web
from sqlalchemy import select

from hub.admin.lifecycle import SESSION_ENDED
from hub.db.inbox_models import UiSession
from hub.db.models import Agent
from hub.platform.events import RESET, LiveEvent
from hub.web.keys import hub_of
from hub.web.requests import row_id
from hub.web.ui.collision import expired
from hub.web.ui.session import session_alive
from hub.web.ui.viewer import viewer_of

HEARTBEAT_SECONDS = 15.0


def _last_id(request: web.Request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.query.get("after", "")
    return row_id(raw)


def _frame(event: LiveEvent) -> bytes:
    lines = [] if event.id is None else [f"id: {event.id}"]
    lines += [f"event: {event.kind}", f"data: {json.dumps(event.data())}"]
    return ("\n".join(lines) + "\n\n").encode()


async def events(request: web.Request) -> web.StreamResponse:
    viewer = viewer_of(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
            "X-Content-Type-Options": "nosniff",
        }
    )
    await response.prepare(request)
    hub = hub_of(request)
    await hub.presence.touch(viewer.agent_id, viewer.presence, stream=True)
    hub.metrics.stream_opened()
    try:
        await _follow(request, response)
    except ConnectionResetError:
        pass  # the page went away (a tab closed, a laptop slept): nothing left to tell it
    finally:
        hub.metrics.stream_closed()
    return response


async def _follow(request: web.Request, response: web.StreamResponse) -> None:
    viewer, hub = viewer_of(request), hub_of(request)
    bus = hub.events
    async with bus.subscribe() as queue:
        after = _last_id(request)
        start = after if after is not None else await bus.latest_id()
        await response.write(f"retry: 1000\nid: {start}\n\n".encode())
        replayed: set[int] = set()
        if after is not None:
            missed = await bus.replay(after)
            now = hub_of(request).clock.now()
            for event in missed if missed is not None else [LiveEvent(None, RESET, None)]:
                if (
                    event.kind != SESSION_ENDED
                    and event.visible_to(viewer.principal)
                    and not expired(event, now)
                ):
                    await response.write(_frame(event))
                if event.id is not None:
                    replayed.add(event.id)
        loop, checked = asyncio.get_running_loop(), 0.0
        while True:
            if loop.time() - checked >= HEARTBEAT_SECONDS:  # a session signed out elsewhere
                if not await session_alive(hub, viewer.session_id):  # ends its stream too
                    break
                checked = loop.time()
            try:
                async with asyncio.timeout(HEARTBEAT_SECONDS):
                    live = await queue.get()
            except TimeoutError:
                if not await _still_signed_in(request):
                    break  # signed out, deactivated or a new password: the page reconnects
                await response.write(b": keep-alive\n\n")
                await hub.presence.touch(viewer.agent_id, viewer.presence, stream=True)
                continue
            if live is None:
                break
            if live.kind == SESSION_ENDED:
                if viewer.agent_id in live.agent_ids and not await _still_signed_in(request):
                    break
                continue
            if live.id in replayed or not live.visible_to(viewer.principal):
                continue
            await response.write(_frame(live))


async def _still_signed_in(request: web.Request) -> bool:
    viewer, hub = viewer_of(request), hub_of(request)
    async with hub.db.reader() as session:
        found = await session.scalar(
            select(UiSession.id)
            .join(Agent, Agent.id == UiSession.agent_id)
            .where(UiSession.id == viewer.session_id, Agent.active.is_(True))
        )
    return found is not None


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/events", events)

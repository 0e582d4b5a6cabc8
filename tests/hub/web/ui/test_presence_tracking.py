"""Presence follows what agents really do: signing in makes an agent online, a while without a
request makes them away, a request brings them back, signing out makes them offline; an open
live page keeps an idle agent away rather than offline. Every stretch is recorded, so time
online per agent and period can be summed (hub.reports.presence.time_online)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import select

from hub.config.settings import Settings
from hub.db.models import Presence, Role
from hub.db.presence_models import PresenceSpan
from hub.platform.clock import ManualClock
from hub.reports.presence import time_online
from tests.conftest import fake_endpoints, make_settings
from tests.hub.web.ui.conftest import PASSWORD, Ui, sign_in
from tests.support.desk import Desk, auth
from tests.support.recorder import HttpRecorder
from tests.support.smtp import SmtpSink

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk_clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def settings(database_url: str, smtp_sink: SmtpSink, callback_server: HttpRecorder) -> Settings:
    return make_settings(
        database_url,
        **fake_endpoints(smtp_sink, callback_server),
        **{
            "live.activity_write_seconds": 0,
            "live.away_after_minutes": 10,
            "live.offline_after_minutes": 30,
            "routing.assignment.reassign_offline": False,
        },
    )


async def _signed_in(
    desk: Desk, new: Callable[[], aiohttp.ClientSession], email: str
) -> tuple[Ui, str]:
    agent_id, token = await desk.agent(email, presence=Presence.OFFLINE, password=PASSWORD)
    http = new()
    assert (await sign_in(http, email, PASSWORD)).status == 303
    return Ui(http, agent_id), token


async def _presence(desk: Desk, agent_id: int) -> str:
    return (await desk.agent_row(agent_id)).presence


async def _spans(desk: Desk, agent_id: int) -> list[tuple[str, datetime, datetime | None]]:
    async with desk.db.reader() as session:
        rows = await session.execute(
            select(PresenceSpan.presence, PresenceSpan.started_at, PresenceSpan.ended_at)
            .where(PresenceSpan.agent_id == agent_id)
            .order_by(PresenceSpan.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def test_sign_in_idle_return_and_sign_out(
    desk: Desk, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    clock = desk.clock
    sue, _token = await _signed_in(desk, browser_session, "sue@example.com")
    assert await _presence(desk, sue.agent_id) == Presence.ONLINE

    clock.advance(timedelta(minutes=5))
    await sue.page("/ui/inbox")  # 09:05, a request
    clock.advance(timedelta(minutes=9))
    await desk.hub.presence.sweep_once()  # 09:14: idle for 9 minutes, still online
    assert await _presence(desk, sue.agent_id) == Presence.ONLINE
    clock.advance(timedelta(minutes=2))
    await desk.hub.presence.sweep_once()  # 09:16: idle for 11 minutes
    assert await _presence(desk, sue.agent_id) == Presence.AWAY

    clock.advance(timedelta(minutes=4))
    page = await sue.page("/ui/inbox")  # 09:20: back
    assert await _presence(desk, sue.agent_id) == Presence.ONLINE
    assert '<option value="online" selected>' in page
    clock.advance(timedelta(minutes=3))
    assert (await sue.post("/ui/logout")).status == 303  # 09:23
    assert await _presence(desk, sue.agent_id) == Presence.OFFLINE

    assert await _spans(desk, sue.agent_id) == [
        ("online", _at(0), _at(16)),
        ("away", _at(16), _at(20)),
        ("online", _at(20), _at(23)),
    ]
    async with desk.db.reader() as session:
        online = await time_online(session, [sue.agent_id], T0, _at(60))
        away = await time_online(session, [sue.agent_id], T0, _at(60), presences=("away",))
        first_ten = await time_online(session, [sue.agent_id], T0, _at(10))
    assert online == {sue.agent_id: timedelta(minutes=19)}
    assert away == {sue.agent_id: timedelta(minutes=4)}
    assert first_ten == {sue.agent_id: timedelta(minutes=10)}


async def test_an_open_live_page_keeps_an_idle_agent_away_not_offline(
    desk: Desk, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    clock = desk.clock
    sue, _token = await _signed_in(desk, browser_session, "sue@example.com")
    clock.advance(timedelta(minutes=25))
    stream = await sue.http.get("/ui/events", headers={"Accept": "text/event-stream"})
    assert stream.status == 200
    await stream.content.readline()  # the stream has begun (and was noted at 09:25)
    await desk.hub.presence.sweep_once()
    assert await _presence(desk, sue.agent_id) == Presence.AWAY
    clock.advance(timedelta(minutes=10))
    await desk.hub.presence.sweep_once()  # 09:35: no request for 35 minutes, page open
    assert await _presence(desk, sue.agent_id) == Presence.AWAY
    clock.advance(timedelta(minutes=1))
    refreshed = await sue.http.get("/ui/inbox/rows", headers={"X-Relaydesk-Background": "1"})
    assert refreshed.status == 200  # the page refreshing itself is no sign of the agent
    assert await _presence(desk, sue.agent_id) == Presence.AWAY
    stream.close()
    clock.advance(timedelta(minutes=31))
    await desk.hub.presence.sweep_once()  # 10:07: the page was last seen at 09:36
    assert await _presence(desk, sue.agent_id) == Presence.OFFLINE
    assert [span[0] for span in await _spans(desk, sue.agent_id)] == ["online", "away"]
    assert (await _spans(desk, sue.agent_id))[-1][2] == _at(67)

    clock.advance(timedelta(minutes=1))
    await sue.page("/ui/inbox")  # offline only for being idle: a request brings them back
    assert await _presence(desk, sue.agent_id) == Presence.ONLINE


async def test_a_chosen_presence_and_signing_out_stay_until_the_agent_changes_them(
    desk: Desk, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    sue, token = await _signed_in(desk, browser_session, "sue@example.com")
    assert (await sue.post("/ui/presence", {"presence": "away"})).status == 303
    desk.clock.advance(timedelta(minutes=1))
    await sue.page("/ui/inbox")
    assert await _presence(desk, sue.agent_id) == Presence.AWAY
    assert (await sue.post("/ui/presence", {"presence": "online"})).status == 303
    assert await _presence(desk, sue.agent_id) == Presence.ONLINE

    assert (await sue.post("/ui/logout")).status == 303
    desk.clock.advance(timedelta(minutes=1))
    response = await desk.client.get("/api/v1/conversations", headers=auth(token))
    assert response.status == 200  # the API still works with a token ...
    assert await _presence(desk, sue.agent_id) == Presence.OFFLINE  # ... but signs nobody in
    spans = await _spans(desk, sue.agent_id)
    assert [(span[0], span[2] is not None) for span in spans] == [
        ("online", True),
        ("away", True),
        ("online", True),
    ]


async def test_presence_set_through_the_api_is_recorded(desk: Desk) -> None:
    admin_id, admin = await desk.agent("ada@example.com", role=Role.ADMIN)
    bob_id, _ = await desk.agent("bob@example.com", presence=Presence.OFFLINE)
    response = await desk.client.put(
        f"/api/v1/routing/agents/{bob_id}", json={"presence": "online"}, headers=auth(admin)
    )
    assert response.status == 200, await response.text()
    desk.clock.advance(timedelta(minutes=30))
    response = await desk.client.put(
        f"/api/v1/routing/agents/{bob_id}", json={"presence": "offline"}, headers=auth(admin)
    )
    assert response.status == 200
    async with desk.db.reader() as session:
        online = await time_online(session, [bob_id, admin_id], T0, _at(120))
    assert online == {bob_id: timedelta(minutes=30), admin_id: timedelta(0)}

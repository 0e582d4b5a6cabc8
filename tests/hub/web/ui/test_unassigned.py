"""Conversations go only to agents who are available: signed in and not away. The demo's
people are not routed anything before they sign in, and a conversation that stays unassigned
says why, on its page and in the API ("No agent of Billing is available: 1 away, 2 signed
out")."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp

from hub.db.models import Presence, Role
from hub.demo import AGENTS, DEMO_PASSWORD, seed_demo
from tests.hub.web.ui.conftest import UiFactory, inbound, sign_in
from tests.support.agent_api import call
from tests.support.desk import Desk
from tests.support.poll import eventually


async def test_unassigned_conversation_says_who_is_missing(desk: Desk, ui_agent: UiFactory) -> None:
    admin = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
    _, token = await desk.agent("ada-api@example.com", role=Role.ADMIN, teams=())
    await desk.agent("bob@example.com", teams=("billing",), presence=Presence.AWAY)
    await desk.agent("carl@example.com", teams=("billing",), presence=Presence.OFFLINE)
    await desk.agent(
        "sam@example.com", role=Role.SUPERVISOR, teams=("billing",), presence=Presence.OFFLINE
    )
    opened = await inbound(desk, "I was charged twice, please refund")

    status, shown = await call(
        desk.client, "GET", f"/api/v1/conversations/{opened.conversation_id}", token
    )
    assert status == 200 and shown["assignee_id"] is None
    reason = "No agent of Billing is available: 1 away, 2 signed out"
    assert shown["unassigned_reason"] == reason
    page = await admin.page(f"/ui/conversations/{opened.conversation_id}")
    assert reason in page


async def test_demo_people_are_routed_only_once_signed_in(
    desk: Desk, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    async with desk.db.writer() as session:
        await seed_demo(session, desk.hub.clock.now())
        await session.commit()
    opened = await inbound(desk, "Please refund my last invoice")
    _, token = await desk.agent("ops@example.com", role=Role.ADMIN, teams=())
    path = f"/api/v1/conversations/{opened.conversation_id}"
    status, shown = await call(desk.client, "GET", path, token)
    assert status == 200 and shown["assignee_id"] is None
    assert shown["unassigned_reason"] == "No agent of Billing is available: 2 signed out"

    supervisor = next(email for email, _, role, _ in AGENTS if role == Role.SUPERVISOR)
    assert (await sign_in(browser_session(), supervisor, DEMO_PASSWORD)).status == 303

    async def assigned() -> bool:
        _, body = await call(desk.client, "GET", path, token)
        return body["assignee_id"] is not None and body["unassigned_reason"] is None

    await eventually(assigned, what="the signed-in supervisor gets the conversation")

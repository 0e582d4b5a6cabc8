"""Whoever opens the hub's bare address lands somewhere useful: signed out on the sign-in page,
signed in on their role's home (the inbox; a marketer's campaigns)."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp

from hub.db.models import Role
from tests.hub.web.ui.conftest import PASSWORD, sign_in
from tests.support.desk import Desk


async def test_the_root_leads_to_sign_in_then_to_each_roles_home(
    desk: Desk, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    http = browser_session()
    signed_out = await http.get("/")
    assert signed_out.status == 200
    assert signed_out.url.path == "/ui/login"
    assert 'id="password"' in await signed_out.text()

    for email, role, home in (
        ("ann@example.com", Role.AGENT, "/ui/inbox"),
        ("mia@example.com", Role.MARKETER, "/ui/campaigns"),
    ):
        teams = ("support",) if role == Role.AGENT else ()
        await desk.agent(email, role=role, teams=teams, password=PASSWORD)
        http = browser_session()
        await sign_in(http, email, PASSWORD)
        landed = await http.get("/")
        assert (landed.status, landed.url.path) == (200, home)

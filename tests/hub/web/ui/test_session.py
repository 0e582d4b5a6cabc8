"""Signing in and out of the agent app: argon2 passwords, the session cookie, CSRF on every
form, the sign-in lockout (more in test_signin_throttle.py), and pages that need a session."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import aiohttp
from argon2 import PasswordHasher
from sqlalchemy import select

from hub.db.inbox_models import UiSession
from hub.db.models import Agent, Role
from tests.hub.web.ui.conftest import PASSWORD, UiFactory, sign_in
from tests.support.desk import Desk


async def test_pages_need_a_session(desk: Desk) -> None:
    response = await desk.client.get("/ui/inbox?view=all", allow_redirects=False)
    assert response.status == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/ui/login"
    assert parse_qs(location.query) == {"next": ["/ui/inbox?view=all"]}
    events = await desk.client.get("/ui/events", headers={"Accept": "text/event-stream"})
    assert events.status == 401


async def test_sign_in_sets_a_session_cookie_and_sign_out_ends_it(
    desk: Desk, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    await desk.agent("ann@example.com", password=PASSWORD)
    http = browser_session()
    response = await sign_in(http, "Ann@Example.com", PASSWORD)
    assert response.status == 303
    assert response.headers["Location"] == "/ui/inbox"
    cookie = response.cookies["rd_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    inbox = await http.get("/ui/inbox")
    assert inbox.status == 200
    assert "Ann" in await inbox.text()
    assert "script-src 'self'" in inbox.headers["Content-Security-Policy"]
    async with desk.hub.db.reader() as session:
        agent = await session.scalar(select(Agent).where(Agent.email == "ann@example.com"))
        assert agent is not None and agent.presence == "online"

    page = await (await http.get("/ui/inbox")).text()
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    out = await http.post("/ui/logout", data={"csrf_token": token}, allow_redirects=False)
    assert out.status == 303
    again = await http.get("/ui/inbox", allow_redirects=False)
    assert again.status == 303 and again.headers["Location"].startswith("/ui/login")
    async with desk.hub.db.reader() as session:
        agent = await session.scalar(select(Agent).where(Agent.email == "ann@example.com"))
        assert agent is not None and agent.presence == "offline"


async def test_a_password_hashed_with_older_costlier_parameters_is_rehashed_at_sign_in(
    desk: Desk, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    await desk.agent("cy@example.com", password=PASSWORD)
    older = PasswordHasher().hash(PASSWORD)  # argon2-cffi's defaults: 64 MiB, 3 passes
    async with desk.hub.db.writer() as session:
        agent = await session.scalar(select(Agent).where(Agent.email == "cy@example.com"))
        assert agent is not None
        agent.password_hash = older
        await session.commit()
    assert (await sign_in(browser_session(), "cy@example.com", PASSWORD)).status == 303
    async with desk.hub.db.reader() as session:
        stored = await session.scalar(select(Agent.password_hash).where(Agent.id == agent.id))
    assert stored is not None and stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert (await sign_in(browser_session(), "cy@example.com", PASSWORD)).status == 303


async def test_wrong_password_and_rate_limit(
    desk: Desk, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    await desk.agent("bob@example.com", password=PASSWORD)
    http = browser_session()
    wrong = await sign_in(http, "bob@example.com", "not-the-password")
    assert wrong.status == 401
    assert "do not match an active account" in await wrong.text()
    assert "rd_session" not in wrong.cookies
    for _ in range(4):
        await sign_in(http, "bob@example.com", "still-wrong-password")
    limited = await sign_in(http, "bob@example.com", PASSWORD)
    assert limited.status == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 15 * 60
    assert "too many failed sign-ins" in (await limited.text()).lower()


async def test_forms_need_the_session_csrf_token(ui_agent: UiFactory, desk: Desk) -> None:
    ann = await ui_agent("ann@example.com")
    missing = await ann.http.post("/ui/presence", data={"presence": "away"}, allow_redirects=False)
    assert missing.status == 403
    assert "expired" in await missing.text()
    bob = await ui_agent("bob@example.com")
    stolen = await ann.http.post(
        "/ui/presence", data={"presence": "away", "csrf_token": bob.token}, allow_redirects=False
    )
    assert stolen.status == 403
    ok = await ann.post("/ui/presence", {"presence": "away"})
    assert ok.status == 303
    async with desk.hub.db.reader() as session:
        agent = await session.get(Agent, ann.agent_id)
        assert agent is not None and agent.presence == "away"


async def test_login_form_rejects_a_post_without_its_token(
    desk: Desk, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    await desk.agent("ann@example.com", password=PASSWORD)
    http = browser_session()
    response = await http.post(
        "/ui/login", data={"email": "ann@example.com", "password": PASSWORD}, allow_redirects=False
    )
    assert response.status == 403
    assert "rd_session" not in response.cookies


async def test_marketer_has_no_inbox(ui_agent: UiFactory) -> None:
    mia = await ui_agent("mia@example.com", role=Role.MARKETER, teams=())
    response = await mia.get("/ui/inbox")
    assert response.status == 403
    assert "may not work in the inbox" in await response.text()


async def test_signing_in_again_clears_the_agents_sessions_that_ran_out(
    desk: Desk, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    """Ann signed in on two devices; one session ran out long ago. Her next sign-in removes
    that one (nothing could use or show it) and leaves the other device signed in."""
    ann, _ = await desk.agent("ann@example.com", password=PASSWORD)
    laptop, phone = browser_session(), browser_session()
    assert (await sign_in(laptop, "ann@example.com", PASSWORD)).status == 303
    assert (await sign_in(phone, "ann@example.com", PASSWORD)).status == 303
    async with desk.hub.db.writer() as session:
        oldest = await session.scalar(
            select(UiSession).where(UiSession.agent_id == ann).order_by(UiSession.id)
        )
        assert oldest is not None
        oldest.expires_at = oldest.created_at  # the laptop's session ran out
        await session.commit()
    assert (await laptop.get("/ui/inbox", allow_redirects=False)).status == 303

    again = browser_session()
    assert (await sign_in(again, "ann@example.com", PASSWORD)).status == 303
    assert await desk.count(UiSession, UiSession.agent_id == ann) == 2  # phone and the new one
    assert (await phone.get("/ui/inbox")).status == 200

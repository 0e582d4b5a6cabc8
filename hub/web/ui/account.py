"""The signed-in agent's own account page: the browsers they are signed in on (device, address,
opened, last seen, "this session"), "sign out" per session and "sign out everywhere", and a
password change (the policy of hub.core.passwords; other sessions end, this one stays)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import select

from hub.core.errors import UI_PASSWORD_MISMATCH, UI_WRONG_PASSWORD
from hub.core.passwords import RULE
from hub.core.sessions import end_all_sessions, end_session, sessions_of
from hub.core.staff import StaffError, set_password, verify_password
from hub.db.models import Agent
from hub.web.keys import hub_of
from hub.web.requests import path_id
from hub.web.ui.render import page, see_other
from hub.web.ui.session import COOKIE
from hub.web.ui.viewer import viewer_of

HOME = "/ui/account"


async def _page(
    request: web.Request, *, status: int = 200, password_error: str | None = None
) -> web.Response:
    hub, viewer = hub_of(request), viewer_of(request)
    async with hub.db.reader() as session:
        sessions = await sessions_of(session, viewer.agent_id, hub.clock.now(), viewer.session_id)
    return page(
        request,
        "ui/account.html",
        status=status,
        sessions=sessions,
        now=hub.clock.now(),
        password_rule=RULE,
        password_error=password_error,
    )


async def show_account(request: web.Request) -> web.Response:
    return await _page(request)


async def sign_out_session(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), viewer_of(request)
    target = path_id(request, "session")
    async with hub.db.writer() as session:
        await end_session(session, viewer.agent_id, target)  # not theirs: nothing happens
        await session.commit()
    if target == viewer.session_id:
        return _signed_out()
    see_other(HOME, "session_ended")


async def sign_out_everywhere(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), viewer_of(request)
    async with hub.db.writer() as session:
        agent = await session.get(Agent, viewer.agent_id)
        assert agent is not None
        await end_all_sessions(session, agent, actor_id=viewer.agent_id, now=hub.clock.now())
        await session.commit()
    return _signed_out()


def _signed_out() -> web.StreamResponse:
    redirect = web.HTTPSeeOther("/ui/login")
    redirect.del_cookie(COOKIE, path="/")
    raise redirect


async def change_password(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), viewer_of(request)
    posted = await request.post()
    current = str(posted.get("current", ""))[:1024]
    password = str(posted.get("password", ""))
    if password != str(posted.get("confirm", "")):
        return await _page(request, status=422, password_error=UI_PASSWORD_MISMATCH)
    async with hub.db.reader() as session:
        stored = await session.scalar(
            select(Agent.password_hash).where(Agent.id == viewer.agent_id)
        )
    if not await asyncio.to_thread(verify_password, stored, current):
        return await _page(request, status=422, password_error=UI_WRONG_PASSWORD)
    async with hub.db.writer() as session:
        agent = await session.get(Agent, viewer.agent_id)
        assert agent is not None
        try:
            await set_password(session, agent, password, keep_session=viewer.session_id)
        except StaffError as exc:
            return await _page(request, status=422, password_error=str(exc))
        await session.commit()
    see_other(HOME, "own_password")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(HOME, show_account)
    router.add_post(HOME + "/password", change_password)
    router.add_post(HOME + "/sessions/all/end", sign_out_everywhere)
    router.add_post(HOME + "/sessions/{id}/end", sign_out_session)

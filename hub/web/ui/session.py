"""Browser sessions for the agent web app: sign-in (argon2, CSRF-protected, throttled per
account and client in the database: hub.core.signin), the session cookie, sign-out, and the
middleware that guards every ``/ui`` path: it loads the signed-in agent, checks the
session-bound CSRF token on every POST and renders errors as pages (or JSON for the app's own
scripts). The security headers every answer gets are hub.web.security's."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import String, cast, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.assembly import Hub
from hub.core import errors
from hub.core.authz import Principal
from hub.core.errors import ApiError
from hub.core.notice_inbox import unread_count_of_agent
from hub.core.signin import ThrottlePolicy, locked_for, record_failure, record_success
from hub.core.staff import agent_by_email, rehashed, verify_password
from hub.db.inbox_models import UiSession
from hub.db.models import Agent, AgentTeam, Presence, Role
from hub.reports.presence import change_presence
from hub.web import csrf
from hub.web.client import client_address, served_over_https
from hub.web.keys import hub_of
from hub.web.ui.render import Handler, back_to, page, problem_response, wants_json
from hub.web.ui.state import UiState, ui_of
from hub.web.ui.viewer import VIEWER, Viewer, home_of, viewer_of
from hub.web.uploads import FORM_TYPES, read_post, streamed

log = logging.getLogger(__name__)
COOKIE = "rd_session"
PREFIX = "/ui"
PUBLIC = ("/ui/login", "/ui/static/", "/ui/password/")
TOUCH_SECONDS = 300
BACKGROUND = "X-Relaydesk-Background"  # set by ui.js on the fetches a live page makes itself


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _bound_secret(hub: Hub, token_hash: str) -> str:
    return f"{hub.settings.secret_key}|session|{token_hash}"


def _team_ids_of_agent() -> Any:
    """A scalar subquery over the ``agents`` row in the outer query: that agent's team ids,
    comma-separated (None when in no team)."""
    return (
        select(func.aggregate_strings(cast(AgentTeam.team_id, String), ","))
        .where(AgentTeam.agent_id == Agent.id)
        .correlate(Agent)
        .scalar_subquery()
    )


async def _load_viewer(request: web.Request, hub: Hub, state: UiState) -> Viewer | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 200:
        return None
    token_hash = _digest(token)
    now = hub.clock.now()
    async with hub.db.reader() as session:
        # The session, its agent, the unread count and the agent's team ids in one row (a row
        # per team would have the database count the notices again for every team).
        row = (
            await session.execute(
                select(UiSession, Agent, unread_count_of_agent(), _team_ids_of_agent())
                .join(Agent, Agent.id == UiSession.agent_id)
                .where(UiSession.token_hash == token_hash, Agent.active.is_(True))
            )
        ).first()
        if row is None or row[0].expires_at <= now:
            return None
        ui_session, agent, unread, team_ids = row
        teams = frozenset(int(team) for team in (team_ids or "").split(",") if team)
    if (now - ui_session.last_seen_at).total_seconds() > TOUCH_SECONDS:
        async with hub.db.writer() as session:
            stored = await session.get(UiSession, ui_session.id)
            if stored is not None:
                stored.last_seen_at = now
                stored.expires_at = now + state.session_ttl
                await session.commit()
    return Viewer(
        principal=Principal(agent.id, Role(agent.role), teams),
        name=agent.name,
        email=agent.email,
        presence=agent.presence,
        session_id=ui_session.id,
        csrf_secret=_bound_secret(hub, token_hash),
        unread_notices=int(unread or 0),
    )


async def session_alive(hub: Hub, session_id: int) -> bool:
    """Whether a session still exists (not signed out here, elsewhere, or by an admin)."""
    async with hub.db.reader() as session:
        row = await session.get(UiSession, session_id)
        return row is not None and row.expires_at > hub.clock.now()


async def _check_csrf(request: web.Request, viewer: Viewer) -> None:
    token = request.headers.get("X-CSRF-Token", "")
    if not token and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        token = str((await read_post(request)).get(csrf.FIELD, ""))
    if not token or not csrf.valid(viewer.csrf_secret, token):
        raise errors.ui_csrf()


def _no_store(response: web.StreamResponse) -> None:
    if not response.prepared and response.content_type == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def ui_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path != PREFIX and not request.path.startswith(PREFIX + "/"):
        return await handler(request)
    hub, state = hub_of(request), ui_of(request)
    try:
        if not request.path.startswith(PUBLIC):
            viewer = await _load_viewer(request, hub, state)
            if viewer is None:
                if request.method == "GET" and not wants_json(request):
                    raise web.HTTPSeeOther("/ui/login?" + urlencode({"next": request.path_qs}))
                raise errors.ui_signed_out()
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                await _check_csrf(request, viewer)
            # A request is activity; a page refreshing itself (BACKGROUND) only shows that it
            # is open, as its event stream does.
            background = request.headers.get(BACKGROUND) == "1"
            if request.path != "/ui/events" and await hub.presence.touch(
                viewer.agent_id, viewer.presence, stream=background
            ):
                viewer = replace(viewer, presence=Presence.ONLINE)
            request[VIEWER] = viewer
        if request.content_type in FORM_TYPES and not streamed(request):
            await read_post(request)  # read once here: handlers get it kept, or this 400
        response = await handler(request)
    except ApiError as exc:
        response = problem_response(request, exc)
    _no_store(response)
    return response


def _login_page(
    request: web.Request, *, error: str | None = None, email: str = "", status: int = 200
) -> web.Response:
    hub = hub_of(request)
    token = csrf.issue(hub.settings.secret_key)
    response = page(
        request,
        "ui/login.html",
        status=status,
        error=error,
        email=email,
        next=back_to(request.query.get("next", ""), ""),
        login_csrf=token,
    )
    csrf.set_cookie(response, token, served_over_https(request, hub.settings))
    return response


def _locked_page(request: web.Request, email: str, wait: int) -> web.Response:
    hub = hub_of(request)
    minutes = max(1, math.ceil(wait / 60))
    words = f"{minutes} minute" + ("s" if minutes != 1 else "")
    at = (hub.clock.now() + timedelta(seconds=wait)).strftime("%H:%M UTC")
    response = _login_page(
        request, error=errors.ui_login_locked(words, at), email=email, status=429
    )
    response.headers["Retry-After"] = str(wait)
    return response


async def show_login(request: web.Request) -> web.Response:
    return _login_page(request)


async def login(request: web.Request) -> web.StreamResponse:
    hub, state = hub_of(request), ui_of(request)
    posted = await request.post()
    email = str(posted.get("email", "")).strip()[:320]
    password = str(posted.get("password", ""))[:1024]
    if not csrf.check(request, str(posted.get(csrf.FIELD, "")), hub.settings.secret_key):
        raise errors.ui_csrf()
    client = client_address(request, hub.settings)
    account = email.lower()
    policy = ThrottlePolicy.of(hub.settings.security)
    async with hub.db.reader() as session:
        wait = await locked_for(session, account, client, hub.clock.now())
        agent = await agent_by_email(session, email) if email and not wait else None
    if wait:
        return _locked_page(request, email, wait)
    stored_hash = agent.password_hash if agent and agent.active else None
    # argon2 outside any transaction: a slow hash never holds the writer
    ok = await asyncio.to_thread(verify_password, stored_hash or state.dummy_hash, password)
    fresh = await asyncio.to_thread(rehashed, stored_hash, password) if ok and stored_hash else None
    async with hub.db.writer() as session:
        if agent is None or not ok or stored_hash is None:
            log.info("failed sign-in for %r from %s", email, client)
            locked = await record_failure(session, account, client, hub.clock.now(), policy)
            await session.commit()
            if locked:
                return _locked_page(request, email, locked)
            return _login_page(request, error=errors.UI_LOGIN_FAILED, email=email, status=401)
        # Failures from this client may have locked the pair meanwhile (another process).
        wait = await locked_for(session, account, client, hub.clock.now())
        agent = await session.get(Agent, agent.id)
        if wait or agent is None or agent.password_hash != stored_hash or not agent.active:
            return (
                _locked_page(request, email, wait)
                if wait
                else _login_page(request, error=errors.UI_LOGIN_FAILED, email=email, status=401)
            )
        if fresh is not None:  # a hash from older parameters: stored anew
            agent.password_hash = fresh
        await record_success(session, account, client)
        token = await start_session(
            session,
            agent,
            hub.clock.now(),
            state,
            user_agent=request.headers.get("User-Agent", ""),
            client=client,
        )
        await change_presence(session, agent, Presence.ONLINE, hub.clock.now())
        await session.commit()
    hub.presence.forget(agent.id)
    hub.events.wake()
    redirect = web.HTTPSeeOther(back_to(str(posted.get("next", "")), home_of(Role(agent.role))))
    redirect.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Lax",
        secure=served_over_https(request, hub.settings),
        path="/",
    )
    raise redirect


async def start_session(
    session: AsyncSession,
    agent: Agent,
    now: datetime,
    state: UiState,
    *,
    user_agent: str = "",
    client: str = "",
) -> str:
    token = secrets.token_urlsafe(32)
    # The agent's sessions that ran out go now: nothing shows them, and each sign-in left one.
    await session.execute(
        delete(UiSession).where(UiSession.agent_id == agent.id, UiSession.expires_at <= now)
    )
    session.add(
        UiSession(
            token_hash=_digest(token),
            agent_id=agent.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + state.session_ttl,
            user_agent=user_agent[:300],
            client_address=client[:64],
        )
    )
    return token


async def logout(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), viewer_of(request)
    async with hub.db.writer() as session:
        await session.execute(delete(UiSession).where(UiSession.id == viewer.session_id))
        agent = await session.get(Agent, viewer.agent_id)
        if agent is not None:
            await change_presence(session, agent, Presence.OFFLINE, hub.clock.now(), chosen=True)
        await session.commit()
    hub.presence.forget(viewer.agent_id)
    hub.events.wake()
    redirect = web.HTTPSeeOther("/ui/login")
    redirect.del_cookie(COOKIE, path="/")
    raise redirect


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/login", show_login)
    router.add_post("/ui/login", login)
    router.add_post("/ui/logout", logout)

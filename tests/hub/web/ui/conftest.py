"""Signed-in browser sessions against the running hub: each ``Ui`` has its own cookie jar and
reads the CSRF token from the pages it loads, the way a browser would."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import aiohttp
import pytest

from channels.base import Attachment, IdentityKind, InboundMessage, InboundRequest, Party
from hub.db.models import Presence, Role
from hub.inbound.pipeline import IngestResult
from tests.support.desk import Desk

PASSWORD = "correct-horse-battery"
_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class Ui:
    http: aiohttp.ClientSession
    agent_id: int = 0
    token: str = ""
    pages: list[str] = field(default_factory=list)

    async def get(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        response = await self.http.get(path, **kwargs)
        if response.content_type == "text/html":
            page = await response.text()
            found = _META.search(page) or _FIELD.search(page)
            if found and found.group(1):
                self.token = found.group(1)
        return response

    async def page(self, path: str) -> str:
        response = await self.get(path)
        assert response.status == 200, (path, response.status, await response.text())
        return await response.text()

    async def post(
        self, path: str, data: dict[str, Any] | list[tuple[str, str]] | None = None, **kwargs: Any
    ) -> aiohttp.ClientResponse:
        if not self.token:
            await self.get("/ui/inbox")
        items = list(data.items()) if isinstance(data, dict) else list(data or [])
        kwargs.setdefault("allow_redirects", False)
        return await self.http.post(path, data=[("csrf_token", self.token), *items], **kwargs)


async def sign_in(
    http: aiohttp.ClientSession, email: str, password: str, headers: dict[str, str] | None = None
) -> aiohttp.ClientResponse:
    login = await http.get("/ui/login", headers=headers)
    token = _FIELD.search(await login.text())
    assert token is not None
    return await http.post(
        "/ui/login",
        data={"csrf_token": token.group(1), "email": email, "password": password},
        headers=headers,
        allow_redirects=False,
    )


OpenBrowser = Callable[..., aiohttp.ClientSession]


@pytest.fixture
async def open_browser() -> AsyncIterator[OpenBrowser]:
    """New browsers (cookie jars) on any desk: ``open_browser(desk, user_agent="...")``."""
    opened: list[aiohttp.ClientSession] = []

    def new(desk: Desk, user_agent: str = "") -> aiohttp.ClientSession:
        http = aiohttp.ClientSession(
            base_url=str(desk.client.make_url("/")),
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            headers={"User-Agent": user_agent} if user_agent else None,
        )
        opened.append(http)
        return http

    yield new
    for http in opened:
        await http.close()


UiFactory = Callable[..., Awaitable[Ui]]


@pytest.fixture
async def browser_session(desk: Desk) -> AsyncIterator[Callable[[], aiohttp.ClientSession]]:
    sessions: list[aiohttp.ClientSession] = []

    def new() -> aiohttp.ClientSession:
        http = aiohttp.ClientSession(
            base_url=str(desk.client.make_url("/")),
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        )
        sessions.append(http)
        return http

    yield new
    for http in sessions:
        await http.close()


@pytest.fixture
def ui_agent(desk: Desk, browser_session: Callable[[], aiohttp.ClientSession]) -> UiFactory:
    """Create an agent with a password and return their signed-in session."""

    async def make(
        email: str,
        *,
        role: Role = Role.AGENT,
        teams: tuple[str, ...] = ("support",),
        presence: Presence = Presence.ONLINE,
    ) -> Ui:
        agent_id, _token = await desk.agent(
            email, role=role, teams=teams, presence=presence, password=PASSWORD
        )
        http = browser_session()
        response = await sign_in(http, email, PASSWORD)
        assert response.status == 303, await response.text()
        ui = Ui(http, agent_id)
        await ui.get("/ui/canned")
        if presence != Presence.ONLINE:  # signing in makes an agent online
            assert (await ui.post("/ui/presence", {"presence": presence.value})).status == 303
        return ui

    return make


async def inbound(
    desk: Desk,
    text: str,
    *,
    email: str = "jane@example.com",
    name: str = "Jane Cooper",
    subject: str | None = None,
    channel: str = "mail",
    html: str | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> IngestResult:
    """A customer message arriving on ``channel``, through the real ingest pipeline."""
    message = InboundMessage(
        channel=channel,
        external_id=f"<{uuid.uuid4().hex}@customer.example>",
        sender=Party(IdentityKind.EMAIL, email, name),
        text=text,
        html=html,
        subject=subject,
        received_at=datetime.now(UTC),
        attachments=attachments,
    )
    return await desk.hub.ingestor.submit(message)


async def inbound_mail(desk: Desk, mail: EmailMessage) -> IngestResult:
    """A real RFC 822 mail, parsed by the mail channel's adapter and ingested."""
    [message] = desk.hub.channels["mail"].parse(InboundRequest(body=mail.as_bytes()))
    return await desk.hub.ingestor.submit(message)

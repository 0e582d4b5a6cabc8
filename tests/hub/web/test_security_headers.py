"""Browser hardening on every answer: a Content-Security-Policy without inline scripts and with
framing forbidden (the widget page may be framed by its channel's allowed origins), nosniff,
a strict Referrer-Policy, session and CSRF cookies Secure when the hub is served over https
(its public URL, or a trusted proxy's X-Forwarded-Proto), and Retry-After on every 429."""

from __future__ import annotations

import re
from collections.abc import Mapping

import aiohttp
import pytest

from tests.channels.web.widget_client import Visitor
from tests.hub.web.test_widget_files import upload
from tests.hub.web.test_widget_socket import WS
from tests.hub.web.ui.conftest import PASSWORD, sign_in
from tests.support.desk import MakeDesk

STRICT_REFERRERS = {
    "same-origin",
    "strict-origin-when-cross-origin",
    "no-referrer",
    "strict-origin",
}


def policy_of(headers: Mapping[str, str]) -> dict[str, str]:
    directives = headers["Content-Security-Policy"].split(";")
    return {d.split()[0]: d.strip() for d in directives if d.strip()}


def assert_hardened(headers: Mapping[str, str], *, framed_by: tuple[str, ...] = ()) -> None:
    policy = policy_of(headers)
    scripts = policy.get("script-src") or policy["default-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in STRICT_REFERRERS
    if framed_by:
        assert all(origin in policy["frame-ancestors"] for origin in framed_by)
        assert "X-Frame-Options" not in headers
    else:
        assert policy["frame-ancestors"] == "frame-ancestors 'none'"
        assert headers["X-Frame-Options"] == "DENY"


async def test_every_page_and_answer_is_hardened(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"capture.enabled": True})
    await desk.agent("ann@example.com", password=PASSWORD)
    async with aiohttp.ClientSession(
        base_url=str(desk.client.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as http:
        assert (await sign_in(http, "ann@example.com", PASSWORD)).status == 303
        for path in (
            "/ui/login",
            "/ui/inbox",
            "/ui/customers",
            "/ui/account",
            "/ui/no-such-page",
            "/forms/contact",
            "/u/not-a-real-token",
            "/dev/mail",
            "/healthz",
            "/api/v1/conversations",
            "/nowhere",
        ):
            response = await http.get(path)
            assert_hardened(response.headers), path
    widget = await desk.client.get("/widget/chat")
    assert widget.status == 200
    assert_hardened(widget.headers, framed_by=("'self'", "http://localhost:8000"))


async def test_cookies_are_secure_when_the_hub_is_served_over_https(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"web.public_url": "https://help.example.com"})
    await desk.agent("ann@example.com", password=PASSWORD)
    async with aiohttp.ClientSession(
        base_url=str(desk.client.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as http:
        login = await http.get("/ui/login")
        assert login.cookies["rd_csrf"]["secure"]
        token = re.search(r'name="csrf_token" value="([^"]+)"', await login.text())
        assert token is not None
        # the jar would not send a Secure cookie over http: send it by hand, as a TLS proxy would
        signed = await http.post(
            "/ui/login",
            data={"csrf_token": token.group(1), "email": "ann@example.com", "password": PASSWORD},
            headers={"Cookie": f"rd_csrf={token.group(1)}"},
            allow_redirects=False,
        )
        assert signed.status == 303
        assert signed.cookies["rd_session"]["secure"]


@pytest.mark.parametrize(
    ("overrides", "secure"),
    [
        ({"security.trusted_proxies": ["127.0.0.1", "::1"]}, True),
        ({}, False),  # X-Forwarded-Proto from anyone but a trusted proxy means nothing
    ],
)
async def test_a_trusted_proxy_says_https(
    make_desk: MakeDesk, overrides: dict[str, object], secure: bool
) -> None:
    desk = await make_desk(**overrides)
    login = await desk.client.get("/ui/login", headers={"X-Forwarded-Proto": "https"})
    assert bool(login.cookies["rd_csrf"]["secure"]) is secure


async def test_a_widget_upload_over_the_limit_says_when_to_retry(make_desk: MakeDesk) -> None:
    chat = await make_desk(**{"channels.chat.messages_per_minute": 1})
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    assert (await upload(chat, visitor, "a.txt", b"1"))[0] == 201
    form = aiohttp.FormData()
    form.add_field("file", b"2", filename="b.txt", content_type="text/plain")
    refused = await chat.client.post(
        "/widget/chat/uploads", data=form, headers={"X-Widget-Token": visitor.token or ""}
    )
    assert refused.status == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    await visitor.close()

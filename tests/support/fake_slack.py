"""A local Slack Web API server for tests, and real request signing for Events API deliveries.

The server speaks the Web API wire format (https://api.slack.com/web): ``POST /api/<method>``
with a bearer token and a JSON or url-encoded body, answered ``{"ok": true, ...}`` or
``{"ok": false, "error": "..."}``; rate limits are HTTP 429 with ``Retry-After``. It records
every call and can be told to fail the next ones (429, 500, or an ``ok: false`` error)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

TOKEN = "xoxb-111-222-fake-bot-token"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_USER_ID = "UBOT111"


def signed_headers(
    body: bytes, secret: str = SIGNING_SECRET, *, timestamp: int | None = None
) -> dict[str, str]:
    """The headers Slack sends with an Events API request: v0 HMAC-SHA256 of
    ``v0:<timestamp>:<body>`` (https://api.slack.com/authentication/verifying-requests-from-slack)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str
    at: float


@dataclass
class Failure:
    status: int
    error: str
    retry_after: int | None
    channel: str | None


@dataclass
class FakeSlack:
    token: str = TOKEN
    calls: list[Call] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    server: TestServer | None = None
    port: int = 0  # 0: any free port
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api/"))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        self.server = TestServer(app, host="127.0.0.1", port=self.port or None)
        await self.server.start_server()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()

    def fail(
        self,
        status: int,
        *,
        error: str = "",
        count: int = 1,
        retry_after: int | None = None,
        channel: str | None = None,
    ) -> None:
        """Answer the next ``count`` chat.postMessage calls (to ``channel``, if given) with
        HTTP ``status`` (200 with ``error`` gives an ``ok: false`` answer)."""
        for _ in range(count):
            self.failures.append(Failure(status, error, retry_after, channel))

    def posted(self) -> list[Call]:
        return [call for call in self.calls if call.method == "chat.postMessage"]

    async def wait_for_posts(self, count: int, timeout: float = 10.0) -> list[Call]:
        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.posted()) >= count)

        await asyncio.wait_for(until(), timeout)
        return self.posted()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params: dict[str, Any] = await request.json()
        else:
            params = dict(await request.post())
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        call = Call(method, params, token, time.monotonic())
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        if token != self.token:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            return web.json_response(
                {
                    "ok": True,
                    "url": "https://fake.slack.com/",
                    "team": "Fake",
                    "user": "relaydesk",
                    "team_id": "T111",
                    "user_id": BOT_USER_ID,
                    "bot_id": "BBOT111",
                }
            )
        if method != "chat.postMessage":
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        failure = next(
            (f for f in self.failures if f.channel in (None, params.get("channel"))), None
        )
        if failure is not None:
            self.failures.remove(failure)
            return _failure(failure)
        if not params.get("channel"):
            return web.json_response({"ok": False, "error": "channel_not_found"})
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = {"type": "message", "text": params.get("text", ""), "user": BOT_USER_ID, "ts": ts}
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        return web.json_response(
            {"ok": True, "channel": params["channel"], "ts": ts, "message": message}
        )


def _failure(failure: Failure) -> web.Response:
    if failure.status == 429:
        headers = {"Retry-After": str(failure.retry_after or 1)}
        return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
    if failure.status >= 500:
        return web.Response(status=failure.status, text="Internal Server Error")
    return web.json_response({"ok": False, "error": failure.error or "unknown_error"})

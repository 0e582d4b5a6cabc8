"""A bot on a local HTTP server speaking both wire formats: our webhook events at ``/events``
and Rasa REST at ``/webhooks/rest/webhook``. It records what it got (headers and body) and
answers what the test scripted (or nothing); ``/slow`` answers after ``delay`` seconds."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


@dataclass
class FakeBot:
    received: list[Received] = field(default_factory=list)
    answer: Callable[[Any], Any] = lambda body: {}
    delay: float = 2.0
    server: TestServer | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.received.append(Received(request.path, dict(request.headers), raw))
        if request.path == "/slow":
            await asyncio.sleep(self.delay)
        return web.json_response(self.answer(json.loads(raw)))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    def events(self, kind: str | None = None) -> list[Any]:
        bodies = [r.body for r in self.received]
        return [b for b in bodies if kind is None or b.get("event") == kind]

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()

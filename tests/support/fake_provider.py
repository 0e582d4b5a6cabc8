"""What every local fake provider server shares: an aiohttp app on 127.0.0.1 (any free port
unless told), a record of every call, waiting for calls to arrive, failures queued for the next
matching calls (HTTP 429 with a retry-after, 5xx, or a provider error), and files it hosts for
download. Subclasses add the provider's routes and answers in its real wire format."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.conftest import FIXTURES

DOWNLOAD = "download"  # the method name recorded for a file download


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    token: str = ""
    body: bytes = b""
    at: float = field(default_factory=time.monotonic)

    @property
    def chat_id(self) -> str:
        return str(self.params.get("chat_id", ""))


@dataclass
class Failure:
    status: int
    methods: tuple[str, ...]  # empty: any method
    where: Mapping[str, str]  # parameters the call must have, to match
    retry_after: int | None = None
    error: str = ""

    def matches(self, call: Call) -> bool:
        if self.methods and call.method not in self.methods:
            return False
        return all(str(call.params.get(key, "")) == value for key, value in self.where.items())


@dataclass
class Hosted:
    content: bytes
    content_type: str


@dataclass
class FakeProvider:
    kind: ClassVar[str] = ""  # the hub's channel kind this server plays
    failing: ClassVar[tuple[str, ...]] = ()  # the methods ``fail`` applies to by default
    token: str = ""
    port: int = 0  # 0: any free port
    calls: list[Call] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    hosted: dict[str, Hosted] = field(default_factory=dict)  # by path below the server root
    server: TestServer | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def base_url(self) -> str:
        raise NotImplementedError

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def channel_config(self) -> dict[str, Any]:
        """A channel table of this kind pointed at this server (no acknowledgements)."""
        return {
            "kind": self.kind,
            "title": self.kind.title(),
            "bot_token": self.token,
            "base_url": self.base_url,
            "ack_template": "",
        }

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self.add_routes(app)
        self.server = TestServer(app, host="127.0.0.1", port=self.port or None)
        await self.server.start_server()
        self.port = self.server.port or 0

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    def fail(
        self,
        status: int,
        *,
        count: int = 1,
        methods: tuple[str, ...] | None = None,
        retry_after: int | None = None,
        error: str = "",
        **where: str | None,
    ) -> None:
        """Answer the next ``count`` calls of ``methods`` (default: ``failing``; ``download``
        for hosted files) whose parameters match ``where`` (``chat_id="1"``, ``channel="C1"``)
        with HTTP ``status`` (a provider error with ``error``)."""
        methods = self.failing if methods is None else methods
        wanted = {key: value for key, value in where.items() if value is not None}
        self.failures.extend(
            Failure(status, methods, wanted, retry_after, error) for _ in range(count)
        )

    def take_failure(self, call: Call) -> Failure | None:
        for failure in self.failures:
            if failure.matches(call):
                self.failures.remove(failure)
                return failure
        return None

    async def record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def called(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_until(self, ready: Any, timeout: float = 10.0) -> None:
        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(ready)

        await asyncio.wait_for(until(), timeout)

    async def wait_for(self, method: str, count: int, timeout: float = 10.0) -> list[Call]:
        await self.wait_until(lambda: len(self.called(method)) >= count, timeout)
        return self.called(method)

    def host(self, path: str, content: bytes, content_type: str) -> str:
        """Serve ``content`` at ``path``; returns its absolute URL."""
        self.hosted[path] = Hosted(content, content_type)
        return self.url(path)

    async def serve_hosted(self, request: web.Request, call: Call) -> web.StreamResponse:
        """Answer a download of a hosted file (recorded as ``download``), or a queued failure."""
        await self.record(call)
        failure = self.take_failure(call)
        if failure is not None:
            return web.Response(status=failure.status, text="Internal Server Error")
        hosted = self.hosted.get(request.path)
        if hosted is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=hosted.content, content_type=hosted.content_type)


Fake = TypeVar("Fake", bound=FakeProvider)


@asynccontextmanager
async def serving(fake: Fake) -> AsyncIterator[Fake]:
    """The fixture pattern: ``async with serving(FakeX()) as fake: yield fake``."""
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def fake_fixture(make: Callable[[], Fake]) -> Any:
    """A fixture serving a fresh fake provider for one test: ``fake_x = fake_fixture(FakeX)``."""

    @pytest.fixture
    async def fixture() -> AsyncIterator[Fake]:
        async with serving(make()) as fake:
            yield fake

    return fixture


def channel_overrides(channel: str, values: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """Settings overrides for a hub channel whose provider is the fake (its ``channel_config``)."""
    merged = {**values, **extra}
    return {f"channels.{channel}.{key}": value for key, value in merged.items()}


def fixture_json(folder: str, name: str) -> dict[str, Any]:
    """A provider payload recorded in tests/fixtures."""
    data: dict[str, Any] = json.loads((FIXTURES / folder / name).read_text(encoding="utf-8"))
    return data

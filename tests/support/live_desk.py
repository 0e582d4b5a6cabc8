"""The Desk harness's app (``build_app``) served over real HTTP on 127.0.0.1 from a thread of its
own, for clients that block (Schemathesis calls with ``requests``): ``LiveDesk.run`` runs a
coroutine on the hub's loop, so a test can make agents and messages as a ``Desk`` test does."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import web
from sqlalchemy import text

from hub.config.settings import Settings
from hub.core.staff import add_agent, create_token
from hub.db.base import Base
from hub.db.models import Presence, Role
from hub.web.keys import HUB, Hub
from tests.support.desk import build_app

T = TypeVar("T")


@dataclass
class LiveDesk:
    settings: Settings
    truncate: bool = False  # a PostgreSQL database shared with earlier tests: empty it first
    url: str = ""
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None

    @property
    def hub(self) -> Hub:
        assert self._runner is not None
        return self._runner.app[HUB]

    def run(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run ``make()`` on the hub's loop and wait for its result."""
        done: Future[T] = asyncio.run_coroutine_threadsafe(_call(make), self._loop)
        return done.result(timeout=60)

    def start(self) -> LiveDesk:
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.run(self._start)
        return self

    async def _start(self) -> None:
        if self.truncate:
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine(self.settings.database.url)
            tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
            async with engine.begin() as connection:
                await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            await engine.dispose()
        self._runner = web.AppRunner(build_app(self.settings, workers=False))
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._runner is not None:
            self.run(self._runner.cleanup)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop.close()

    def agent(self, email: str, role: Role = Role.AGENT) -> tuple[int, str]:
        """An active agent in team support, and their API token."""

        async def make() -> tuple[int, str]:
            hub = self.hub
            async with hub.db.writer() as session:
                agent = await add_agent(
                    session,
                    email=email,
                    name=email.split("@")[0].title(),
                    role=role,
                    now=hub.clock.now(),
                    teams=("support",),
                    presence=Presence.ONLINE,
                    capacity=10,
                )
                token = await create_token(session, agent, hub.clock.now())
                await session.commit()
                return agent.id, token

        return self.run(make)


async def _call(make: Callable[[], Awaitable[T]]) -> T:
    return await make()

"""A named task that runs for the life of the app, for the hub's pollers and runners."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any


class Background:
    def __init__(self, name: str, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.name = name
        self._run = run
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def join(self, seconds: float) -> None:
        """Wait up to ``seconds`` for the task to end by itself."""
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=seconds)

    async def stop(self) -> None:
        """Cancel and wait until the task has ended. Ask again while it runs: on Python 3.11 a
        cancellation can be swallowed by a wait_for inside a library the task is awaiting."""
        task, self._task = self._task, None
        while task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)

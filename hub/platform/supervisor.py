"""The one place long-running work runs: every background loop of the hub (the job queue's
workers, the ingest writer, the event bus, the pollers, the widget socket registry) is a
``Worker`` whose step the supervisor calls again and again. It starts them together, stops them
cleanly (in reverse order, each given its grace to finish what it is doing) and logs a failure
once: the first time a step fails with an error, not again while it keeps failing the same way,
and once more when it recovers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
Step = Callable[[], Awaitable[float | None]]


class Worker:
    """One supervised loop. ``step`` does one round and returns how long to pause before the
    next (0: go on at once; None: ``idle_seconds``); ``wake()`` ends a pause early (then, with
    ``settle_seconds``, the work of the next moment is let in first). After a failed step it
    pauses ``on_failure(error)`` seconds (else ``retry_seconds``, else ``idle_seconds``).
    ``setup`` runs before the first step; on stop ``drain`` runs first and ``after_stop`` once
    the loop has ended."""

    def __init__(
        self,
        name: str,
        step: Step,
        *,
        idle_seconds: float = 1.0,
        retry_seconds: float | None = None,
        grace_seconds: float = 0.0,
        settle_seconds: float = 0.0,
        setup: Callable[[], Awaitable[None]] | None = None,
        drain: Callable[[], Awaitable[None]] | None = None,
        after_stop: Callable[[], Awaitable[None]] | None = None,
        on_failure: Callable[[Exception], Awaitable[float]] | None = None,
    ) -> None:
        self.name = name
        self.step = step
        self.idle_seconds = idle_seconds
        self.retry_seconds = idle_seconds if retry_seconds is None else retry_seconds
        self.grace_seconds = grace_seconds
        self.settle_seconds = settle_seconds
        self.setup = setup
        self.drain = drain
        self.after_stop = after_stop
        self.on_failure = on_failure
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._failing: str | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    @property
    def stopping(self) -> bool:
        return self._stopping

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self._task is not None:
            return
        if self.setup is not None:
            await self.setup()
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        """Let the round under way finish (within the grace), then end the loop. Cancel again
        while it runs: on Python 3.11 a cancellation can be swallowed by a wait_for inside a
        library the task is awaiting."""
        task = self._task
        if task is None:
            return
        if self.drain is not None:
            await self.drain()
        self._stopping = True
        self.wake()
        if self.grace_seconds > 0:
            await asyncio.wait({task}, timeout=self.grace_seconds)
        self._task = None
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=0.1)
        if self.after_stop is not None:
            await self.after_stop()

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                pause = await self.step()
                self._recovered()
            except Exception as exc:
                self._failed(exc)
                pause = await self.on_failure(exc) if self.on_failure else self.retry_seconds
            if self._stopping:
                return
            if pause is None:
                pause = self.idle_seconds
            if pause > 0:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the
                # cancellation from stop() when a wake() lands at the same moment.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause):
                        await self._wake.wait()
                    if self.settle_seconds > 0 and not self._stopping:
                        await asyncio.sleep(self.settle_seconds)
            self._wake.clear()

    def _failed(self, exc: Exception) -> None:
        said = f"{type(exc).__name__}: {exc}"
        if said == self._failing:
            log.debug("%s is still failing: %s", self.name, said)
            return
        self._failing = said
        log.error("%s failed: %s", self.name, said, exc_info=exc)

    def _recovered(self) -> None:
        if self._failing is not None:
            log.info("%s works again", self.name)
            self._failing = None


class Supervisor:
    """Starts and stops every worker of one hub process."""

    def __init__(self) -> None:
        self._workers: list[Worker] = []
        self._started = False

    @property
    def workers(self) -> tuple[Worker, ...]:
        return tuple(self._workers)

    async def add(self, *workers: Worker) -> None:
        """Supervise ``workers``; started at once when the supervisor already runs."""
        for worker in workers:
            self._workers.append(worker)
            if self._started:
                await worker.start()

    async def start(self) -> None:
        self._started = True
        for worker in self._workers:
            await worker.start()

    async def stop(self) -> None:
        """Stop every worker, the last started first."""
        self._started = False
        for worker in reversed(self._workers):
            await worker.stop()
        self._workers.clear()

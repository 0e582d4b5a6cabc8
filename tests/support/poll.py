"""Polling with a deadline, for outcomes that have no event to wait on (a row changing state)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def eventually(
    predicate: Callable[[], Awaitable[bool]],
    timeout: float = 10.0,
    *,
    interval: float = 0.02,
    what: str = "condition",
) -> None:
    """Await ``predicate`` until it returns true; fail with AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        if await predicate():
            return
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        await asyncio.sleep(interval)

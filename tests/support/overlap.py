"""Two writers deciding the same thing at the same moment (two processes, or the monitor and a
reply). On PostgreSQL both look before either commits: the first holds its transaction open
until the second has started, so the second's insert waits on the first's and must then give
way. SQLite runs one writer at a time, so there the second simply finds the first's rows."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Writer = Callable[[asyncio.Event | None], Awaitable[None]]


async def at_once(write: Writer, *, sqlite: bool) -> None:
    """Run ``write`` twice, overlapping where the store allows it. ``write`` awaits the event
    it is given (if any) after its writes and before its commit."""
    if sqlite:
        await write(None)
        await write(None)
        return
    release = asyncio.Event()
    first = asyncio.create_task(write(release))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(write(None))
    await asyncio.sleep(0.3)
    release.set()
    await asyncio.gather(first, second)

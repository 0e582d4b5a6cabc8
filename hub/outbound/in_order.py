"""One conversation's messages leave in the order they were written, while other
conversations' go out alongside: the dispatcher reads its claimed items one after another (in
claim order, which is creation order for items due at the same time), and each send waits for
the one before it in the same conversation. Two bot answers, or two quick replies of an agent,
never reach the customer swapped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class InOrder:
    def __init__(self) -> None:
        self._reading = asyncio.Lock()  # FIFO: claims are read in the order they were started
        self._last: dict[int | None, asyncio.Event] = {}  # conversation: the latest send's "done"

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[None]:
        """Hold while reading a claimed item, up to ``place`` (no await in between)."""
        async with self._reading:
            yield

    def place(self, conversation_id: int | None) -> tuple[asyncio.Event | None, asyncio.Event]:
        """Take the next place in the conversation's line: the send before (if still going)
        and this send's own "done"."""
        before = self._last.get(conversation_id)
        mine = asyncio.Event()
        self._last[conversation_id] = mine
        return before, mine

    @asynccontextmanager
    async def turn(
        self, conversation_id: int | None, before: asyncio.Event | None, mine: asyncio.Event
    ) -> AsyncIterator[None]:
        """Wait for the send before in the same conversation, send, then let the next go."""
        try:
            if before is not None:
                await before.wait()
            yield
        finally:
            mine.set()
            if self._last.get(conversation_id) is mine:
                del self._last[conversation_id]

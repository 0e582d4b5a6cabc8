"""Outbound pacing for chat providers: a minimum spacing per conversation key (a Telegram chat,
a Slack channel) plus a rate for the whole bot, and pauses the provider asked for (429).

Nothing here waits on behalf of another key: ``reserve`` either grants a slot that starts soon
(the caller sleeps that long) or says how long until one would be free, so the caller can hand
the message back to the outbox and keep serving other chats. Only the bot-wide ``turn`` is
shared, and it is a fraction of a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

PRUNE_ABOVE = 10_000


@dataclass(frozen=True, slots=True)
class Slot:
    """``granted``: sleep ``wait`` seconds, then send. Otherwise retry after ``wait`` seconds."""

    granted: bool
    wait: float


class Pacer:
    def __init__(self, per_second: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._spacing = 1.0 / per_second
        self._clock = clock
        self._last = float("-inf")
        self._turns = asyncio.Lock()
        self._next: dict[str, float] = {}  # key -> start of its next free slot
        self._sent: dict[str, float] = {}  # key -> when it was last sent to

    def reserve(self, key: str, interval: float, max_wait: float) -> Slot:
        """Take the next free slot for ``key`` if it starts within ``max_wait`` seconds."""
        now = self._clock()
        start = max(now, self._next.get(key, 0.0))
        wait = start - now
        if wait > max_wait:
            return Slot(granted=False, wait=wait)
        self._next[key] = start + interval
        if len(self._next) > PRUNE_ABOVE:
            self._prune(now)
        return Slot(granted=True, wait=wait)

    async def turn(self, key: str, interval: float) -> None:
        """Wait until both the bot's next send and ``key``'s spacing allow a send, measured
        from the sends that really happened (senders woken together still go out spaced)."""
        while True:
            gap = self._sent.get(key, float("-inf")) + interval - self._clock()
            if gap > 0:
                await asyncio.sleep(gap)
                continue
            async with self._turns:
                wait = self._last + self._spacing - self._clock()
                if wait > 0:
                    await asyncio.sleep(wait)
                now = self._clock()
                if self._sent.get(key, float("-inf")) + interval <= now:
                    self._last = self._sent[key] = now
                    return

    def pause(self, key: str, seconds: float) -> None:
        """The provider said to wait before sending to ``key`` again."""
        self._next[key] = max(self._next.get(key, 0.0), self._clock() + seconds)

    def _prune(self, now: float) -> None:
        for key in [key for key, at in self._next.items() if at <= now]:
            del self._next[key]
            self._sent.pop(key, None)

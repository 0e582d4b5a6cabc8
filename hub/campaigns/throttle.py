"""How fast a campaign may go out on one hub channel: a token bucket for the channel's rate,
a limit on sends in flight (SMTP connections, HTTP calls) and a minimum spacing between two
messages to one chat (Telegram: 1 s per chat; Slack: about 1 s per channel).

The limits are per process: several hub processes sending one campaign each keep to them, so
configure ``per_second`` as the share of one process when running several."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from hub.config.campaigns import Throttle

DEFAULT = Throttle(per_second=50, concurrency=4)
PRUNE_ABOVE = 10_000


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; ``take`` waits for one."""

    def __init__(
        self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate / 10)
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    async def take(self) -> None:
        async with self._lock:
            self._refill()
            while self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self.rate)
                self._refill()
            self._tokens -= 1


class ChannelThrottle:
    """One hub channel's limits."""

    def __init__(self, throttle: Throttle) -> None:
        self.throttle = throttle
        self.bucket = TokenBucket(throttle.per_second)
        self.in_flight = asyncio.Semaphore(throttle.concurrency)
        self._last: dict[str, float] = {}

    @asynccontextmanager
    async def slot(self, address: str) -> AsyncIterator[None]:
        """Wait for a free send, the channel's next token and the address's spacing."""
        async with self.in_flight:
            spacing = self.throttle.per_recipient_seconds
            if spacing > 0:
                wait = self._last.get(address, float("-inf")) + spacing - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._last[address] = time.monotonic()
                if len(self._last) > PRUNE_ABOVE:
                    self._prune(spacing)
            await self.bucket.take()
            yield

    def _prune(self, spacing: float) -> None:
        limit = time.monotonic() - spacing
        for key in [key for key, at in self._last.items() if at < limit]:
            del self._last[key]


class Throttles:
    """The throttles of every hub channel, made on first use from the settings of its kind."""

    def __init__(self, by_kind: dict[str, Throttle]) -> None:
        self.by_kind = by_kind
        self._channels: dict[str, ChannelThrottle] = {}

    def of(self, channel: str, kind: str) -> ChannelThrottle:
        found = self._channels.get(channel)
        if found is None:
            found = ChannelThrottle(self.by_kind.get(kind, DEFAULT))
            self._channels[channel] = found
        return found

"""The HTTP client that delivers a signed event to a bot (a client, as the channel adapters
are: no routes here). One pooled session per hub process keeps connections to the bots open
(keep-alive) between events; the hub opens it on the first delivery and closes it when it
stops. The bot's own time is measured around the request alone. Every connection is opened
through ``Targets`` (hub/platform/targets.py): a non-public address is refused as it is connected
to, whatever the URL's name resolved to."""

from __future__ import annotations

import time
from dataclasses import dataclass

import aiohttp

from channels.outgoing import refusal
from hub.platform.targets import Targets

MAX_ANSWER = 256 * 1024
# A connection a bot left idle this long is not used again (many servers close theirs after a
# few seconds; reusing one they just closed would cost the event an attempt).
IDLE_SECONDS = 4.0
CONNECTIONS = 100  # at once, over all bots (per bot: PER_BOT)
PER_BOT = 32  # above the job runner's default concurrency (16)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None
    body: bytes
    error: str | None
    timed_out: bool
    bot_ms: int


class BotClient:
    """Delivers events over pooled connections; ``close()`` when the hub stops."""

    def __init__(self, targets: Targets | None = None) -> None:
        self._session: aiohttp.ClientSession | None = None
        self.targets = targets or Targets()

    def _pooled(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=CONNECTIONS,
                limit_per_host=PER_BOT,
                keepalive_timeout=IDLE_SECONDS,
                socket_factory=self.targets.socket_for,
            )
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_ms: int) -> Answer:
        """POST one event; never raises for the bot's failures (they are the answer). A kept
        connection the bot closed before answering is replaced once, within the same timeout."""
        started = time.perf_counter()
        timeout = aiohttp.ClientTimeout(total=timeout_ms / 1000)
        client = self._pooled()
        try:
            for fresh in (False, True):
                try:
                    async with client.post(
                        url, data=body, headers=headers, timeout=timeout
                    ) as response:
                        raw = await response.content.read(MAX_ANSWER)
                        return Answer(response.status, raw, None, False, _since(started))
                except aiohttp.ServerDisconnectedError:
                    left = timeout_ms / 1000 - (time.perf_counter() - started)
                    if fresh or left <= 0:
                        raise
                    timeout = aiohttp.ClientTimeout(total=left)
            raise AssertionError("unreachable")
        except TimeoutError:
            return Answer(None, b"", f"no answer within {timeout_ms} ms", True, _since(started))
        except aiohttp.ClientError as exc:
            error = refusal(exc) or f"unreachable: {exc or type(exc).__name__}"
            return Answer(None, b"", error, False, _since(started))


def _since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)

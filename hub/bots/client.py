"""The HTTP client that delivers a signed event to a bot (a client, as the channel adapters
are: no routes here). The bot's own time is measured around the request alone."""

from __future__ import annotations

import time
from dataclasses import dataclass

import aiohttp

MAX_ANSWER = 256 * 1024


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None
    body: bytes
    error: str | None
    timed_out: bool
    bot_ms: int


async def post(url: str, body: bytes, headers: dict[str, str], timeout_ms: int) -> Answer:
    """POST one event; never raises for the bot's failures (they are the answer)."""
    started = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=timeout_ms / 1000)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as client,
            client.post(url, data=body, headers=headers) as response,
        ):
            raw = await response.content.read(MAX_ANSWER)
            elapsed = int((time.perf_counter() - started) * 1000)
            return Answer(response.status, raw, None, False, elapsed)
    except TimeoutError:
        elapsed = int((time.perf_counter() - started) * 1000)
        return Answer(None, b"", f"no answer within {timeout_ms} ms", True, elapsed)
    except aiohttp.ClientError as exc:
        elapsed = int((time.perf_counter() - started) * 1000)
        return Answer(None, b"", f"unreachable: {exc or type(exc).__name__}", False, elapsed)

"""The benchmarks' HTTP load generator: POSTs from many concurrent workers (127.0.0.1 only)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterable
from typing import Any

import aiohttp

Post = tuple[str, dict[str, Any]]  # a URL and aiohttp's keyword arguments (json=, data=, ...)


async def post_all(posts: Iterable[Post], concurrency: int, expect: int) -> dict[str, float]:
    """Send every POST, ``concurrency`` at a time; a status other than ``expect`` counts as an
    error. Returns messages/s, p50/p99/max latency in ms, errors and the number sent."""
    latencies: list[float] = []
    errors = 0
    queue = iter(posts)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        for url, arguments in queue:
            started = time.perf_counter()
            async with session.post(url, **arguments) as response:
                await response.read()
                if response.status != expect:
                    errors += 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "rate": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000,
        "max_ms": latencies[-1] * 1000,
        "errors": errors,
        "requests": len(latencies),
    }

"""Benchmark: how soon the live operations view shows a new message (a script, not a test).

    .venv/bin/python -m bench.live [--background 2000] [--samples 30] [--db PATH]

Starts the hub in this process on 127.0.0.1 (SQLite; ``--db`` reuses a file, e.g. one loaded
by bench.inbox with 100,000 conversations), signs a supervisor in through the login form and
opens the live stream (/ui/events) with a real SSE client, as /ui/live does. Then, per sample:
post one message to the API channel, wait for its event on the stream, pause 60 ms as the
page's refresher does, fetch the figures fragment (/ui/live/figures) and check that the total
of open conversations went up by one. Prints p50/p95/max of "message posted -> refreshed
figures on screen" (target: 1 s) and of the fragment alone; results go to
bench/results/live.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This folder holds scripts (one is named email.py), not modules: keep it off the import path.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import aiohttp  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from rich.progress import Progress  # noqa: E402

from bench.inbox import (  # noqa: E402
    API_TOKEN,
    PASSWORD,
    post_question,
    seen_within,
    settings_for,
    sign_in,
    summary,
    watch_events,
)
from channels.base import IdentityKind, InboundMessage, Party  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.assembly import assemble, session_of  # noqa: E402
from hub.config.settings import Settings  # noqa: E402
from hub.core.staff import add_agent, agent_by_email  # noqa: E402
from hub.db.models import Role  # noqa: E402
from hub.platform.migrate import upgrade  # noqa: E402

SUPERVISOR = "live-supervisor@bench.example"
PAGE_PAUSE_SECONDS = 0.06  # ui.js refresher: events of the next 60 ms share one fetch
OPEN_TOTAL = re.compile(r'data-team="all">.*?data-figure="open"><a [^>]*>(\d+)</a>', re.DOTALL)


async def prepare(settings: Settings, background: int) -> None:
    """The supervisor, and ``background`` open conversations through the real ingest path."""
    async with session_of(settings) as session:
        if await agent_by_email(session, SUPERVISOR) is None:
            await add_agent(
                session,
                email=SUPERVISOR,
                name="Live Supervisor",
                role=Role.SUPERVISOR,
                now=datetime.now(UTC),
                password=PASSWORD,
            )
    if background <= 0:
        return
    async with assemble(settings, start_workers=False) as hub:
        with Progress() as progress:
            task = progress.add_task("background conversations", total=background)
            stamp = time.time_ns()
            for start in range(0, background, 200):
                batch = [
                    InboundMessage(
                        channel="mail",
                        external_id=f"<bg-{stamp}-{n}@bench.example>",
                        sender=Party(IdentityKind.EMAIL, f"bg{stamp}-{n}@bench.example", "Bg"),
                        text=f"Background question {n}",
                        subject=f"Question {n}",
                        received_at=datetime.now(UTC),
                    )
                    for n in range(start, min(background, start + 200))
                ]
                await hub.ingestor.process(batch)
                progress.advance(task, len(batch))


async def open_total(http: aiohttp.ClientSession) -> int:
    response = await http.get("/ui/live/figures")
    assert response.status == 200, response.status
    found = OPEN_TOTAL.search(await response.text())
    assert found is not None, "no total line in the figures"
    return int(found.group(1))


async def measure(settings: Settings, samples: int) -> dict[str, Any]:
    server = TestServer(create_app(settings, long_running=True), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession(
            base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as http:
            await sign_in(http, SUPERVISOR)
            before = await open_total(http)
            fragment = []
            for _ in range(5):  # warm up, and the fragment's own time
                started = time.perf_counter()
                await open_total(http)
                fragment.append((time.perf_counter() - started) * 1000)
            shown, heard = [], []
            async with watch_events(http, "message") as seen:
                for n in range(samples):
                    conversation, posted = await post_question(http, API_TOKEN, n)
                    heard.append((await seen_within(seen, conversation) - posted) * 1000)
                    await asyncio.sleep(PAGE_PAUSE_SECONDS)
                    started = time.perf_counter()
                    total = await open_total(http)
                    done = time.perf_counter()
                    fragment.append((done - started) * 1000)
                    assert total == before + n + 1, (total, before, n)
                    shown.append((done - posted) * 1000)
    finally:
        await server.close()
    return {
        "message posted -> live figures refreshed (target 1000 ms)": summary(shown),
        "  of which: message posted -> its event on the stream": summary(heard),
        "  of which: figures fragment (/ui/live/figures)": summary(fragment),
        "open conversations at start": before,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--background", type=int, default=2000, help="open conversations to add")
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--db", help="SQLite file to use (reused if it exists)")
    args = parser.parse_args()
    path = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix="rd-live-")) / "bench.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    settings = settings_for(url)
    asyncio.run(prepare(settings, args.background))
    results = asyncio.run(measure(settings, args.samples))
    print(f"\nopen conversations at start: {results['open conversations at start']}")
    print(f"{'figure':<58}  {'p50':>7}  {'p95':>7}  {'max':>7}   (ms, {args.samples} samples)")
    for label, figures in results.items():
        if isinstance(figures, dict):
            p50, p95, top = figures["p50_ms"], figures["p95_ms"], figures["max_ms"]
            print(f"{label:<58}  {p50:>7}  {p95:>7}  {top:>7}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "live.json").write_text(json.dumps({"db": str(path), **results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark (not a test): the bot gateway's own overhead per bot round trip, with many
concurrent bot conversations against a local fake bot in another process.

    .venv/bin/python -m bench.bots [--conversations 1000] [--database-url URL]

(A PostgreSQL database given is emptied first.)

Each of N customers writes at once on the API channel; a registered webhook bot takes every
conversation. One round trip, from the customer's message stored (its ingest commit, which is
the pipeline's time, not the gateway's) -> the signed ``message.created`` event delivered to
the bot (a job on the job queue, after the pass's routing sweeps) -> its answer stored -> the
answer handed to the channel by the outbox. The gateway's overhead is that time minus the bot's
time as the gateway saw it (the HTTP request, from the delivery log). Prints p50/p95/max of the
overhead and of the whole round trip. Target: overhead p95 <= 20 ms.

Then, as wall-clock times are noisy on a shared machine, a load-independent figure: N customers
write while the job runner is stopped (their ingest is not the gateway's), then the runner is
started and the gateway alone works off the N round trips (the events ``conversation.opened``
and ``message.created``, the answers, their sending by the outbox): the process's CPU time and
the SQL statements it ran in that stretch, per round trip (the fake bot runs in another
process, so its time is not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import socket
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import create_async_engine

from channels.base import DeliveryResult, OutboundMessage
from channels.memory.adapter import MemoryChannel
from hub.assembly import Hub, assemble
from hub.bots import registry
from hub.config.settings import Settings, load_settings
from hub.db.bots_models import BotDelivery
from hub.db.tables import metadata
from hub.platform.clock import SystemClock

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_bot(port: int) -> None:
    async def events(request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("event") != "message.created":
            return web.json_response({})
        return web.json_response({"messages": [{"text": "echo: " + body["message"]["text"]}]})

    app = web.Application()
    app.router.add_post("/events", events)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


class TimedChannel(MemoryChannel):
    """Notes when each bot answer reaches the channel."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.answered: dict[int, float] = {}
        self.done = asyncio.Event()
        self.expected = 0
        self.waiting: dict[int, asyncio.Future[float]] = {}  # paced: conversation -> its answer

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        if message.text.startswith("echo:") and message.conversation_id is not None:
            at = self.answered[message.conversation_id] = time.time()
            waiter = self.waiting.pop(message.conversation_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(at)
            if len(self.answered) >= self.expected:
                self.done.set()
        return DeliveryResult.sent(f"memory-{message.message_id}")


async def _empty(url: str) -> None:
    engine = create_async_engine(url)
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    except ProgrammingError:
        pass  # no tables yet: the hub creates them
    finally:
        await engine.dispose()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _settings(url: str, concurrency: int) -> Settings:
    return load_settings(
        ROOT / "config" / "relaydesk.toml",
        environ={},
        overrides={
            "database.url": url,
            "database.auto_migrate": True,
            "followups.rules": [],
            "sla_policies": [],
            "routing.rules": [],
            "capture.enabled": False,  # no SMTP capture port: other hubs may run alongside
            **({"jobs.concurrency": concurrency} if concurrency else {}),
        },
    )


async def _register(hub: Hub, bot_url: str) -> None:
    async with hub.db.writer() as session:
        fields = {
            **{"name": "bench", "kind": "webhook", "url": bot_url, "channels": ["api"]},
            **{"teams": [], "enabled": True, "timeout_ms": 10000, "max_errors": 3},
        }
        await registry.create(session, None, fields, datetime.now(UTC))
        await session.commit()


async def run(url: str, conversations: int, bot_url: str, concurrency: int) -> dict[str, Any]:
    """The round trips' wall-clock times, all customers writing at once."""
    if not url.startswith("sqlite"):  # the PostgreSQL database given is emptied first
        await _empty(url)
    settings = _settings(url, concurrency)
    channel = TimedChannel("api")
    channel.expected = conversations
    async with assemble(
        settings, clock=SystemClock(), channels={"api": channel, "mail": MemoryChannel("mail")}
    ) as hub:
        await _register(hub, bot_url)
        started: dict[int, float] = {}

        async def customer(i: int) -> None:
            message = channel.message(f"question {i}", sender=f"c{i}@example.com")
            result = await hub.ingestor.submit(message)
            started[result.conversation_id] = time.time()  # stored and committed

        wall = time.perf_counter()
        await asyncio.gather(*(customer(i) for i in range(conversations)))
        await asyncio.wait_for(channel.done.wait(), timeout=600)
        wall = time.perf_counter() - wall
        async with hub.db.reader() as session:
            rows = await session.execute(
                select(BotDelivery.conversation_id, BotDelivery.bot_ms).where(
                    BotDelivery.event == "message.created", BotDelivery.outcome == "ok"
                )
            )
            bot_ms = {cid: ms or 0 for cid, ms in rows}
    trips = {cid: (channel.answered[cid] - at) * 1000 for cid, at in started.items()}
    overhead = [trips[cid] - bot_ms.get(cid, 0) for cid in trips]
    return {
        "conversations": conversations,
        "wall_s": round(wall, 2),
        "round_trip_ms": [round(percentile(list(trips.values()), q), 1) for q in (0.5, 0.95, 1)],
        "overhead_ms": [round(percentile(overhead, q), 1) for q in (0.5, 0.95, 1)],
        "bot_ms_p95": percentile([float(v) for v in bot_ms.values()], 0.95),
        "per_second": round(conversations / wall, 1),
    }


async def cost(
    url: str, conversations: int, bot_url: str, concurrency: int, pace: Pace | None
) -> dict[str, Any]:
    """CPU time and SQL statements of the gateway alone per round trip (see the top); then,
    with ``pace``, the paced round trips over the N conversations now open."""
    if not url.startswith("sqlite"):
        await _empty(url)
    settings = _settings(url, concurrency)
    channel = TimedChannel("api")
    channel.expected = conversations
    statements: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements[" ".join(statement.split())[:110]] += 1

    found: dict[str, Any] = {}
    async with assemble(
        settings, clock=SystemClock(), channels={"api": channel, "mail": MemoryChannel("mail")}
    ) as hub:
        await _register(hub, bot_url)
        runner = hub.routing.jobs.worker
        await runner.stop()
        senders = [f"c{i}@example.com" for i in range(conversations)]
        opened = await asyncio.gather(
            *(hub.ingestor.submit(channel.message("question", sender=s)) for s in senders)
        )
        await asyncio.sleep(0.5)  # the outbox and the live streams settle
        for engine in hub.db.engines:
            event.listen(engine.sync_engine, "before_cursor_execute", count)
        cpu = time.process_time()
        await runner.start()
        await asyncio.wait_for(channel.done.wait(), timeout=600)
        cpu = time.process_time() - cpu
        for engine in hub.db.engines:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        found["cpu_ms"] = round(cpu * 1000 / conversations, 2)
        found["statements"] = round(sum(statements.values()) / conversations, 1)
        found["by_statement"] = [
            (round(n / conversations, 2), text) for text, n in statements.most_common(30)
        ]
        if pace is not None:
            who = {r.conversation_id: s for r, s in zip(opened, senders, strict=True)}
            found |= await paced(hub, channel, who, pace)
    return found


@dataclass(frozen=True, slots=True)
class Pace:
    rate: float  # customer messages per second, over all the open conversations
    seconds: float  # for how long they write


async def paced(
    hub: Hub, channel: TimedChannel, senders: dict[int, str], pace: Pace
) -> dict[str, Any]:
    """N open bot conversations; customers write at ``pace.rate`` messages a second in all
    (each to a conversation with no question pending, picked at random) for ``pace.seconds``;
    each round trip's overhead is its time minus the bot's own time (the delivery log)."""
    rng = random.Random(16)
    idle = list(channel.answered)  # the open conversations, none waiting
    trips: list[tuple[int, float, float]] = []  # conversation, stored at, answered at
    first_log = await _last_delivery(hub)
    cpu, started = time.process_time(), time.perf_counter()

    async def customer(cid: int, sender: str) -> None:
        waiter = asyncio.get_running_loop().create_future()
        channel.waiting[cid] = waiter
        await hub.ingestor.submit(channel.message("another question", sender=sender))
        stored = time.time()
        answered = await asyncio.wait_for(waiter, timeout=120)
        trips.append((cid, stored, answered))
        idle.append(cid)

    running: list[asyncio.Task[None]] = []
    sent = 0
    while (elapsed := time.perf_counter() - started) < pace.seconds:
        due = int(elapsed * pace.rate) + 1
        while sent < due and idle:
            cid = idle.pop(rng.randrange(len(idle)))
            running.append(asyncio.create_task(customer(cid, senders[cid])))
            sent += 1
        await asyncio.sleep(max(0.0, (sent / pace.rate) - (time.perf_counter() - started)))
    await asyncio.gather(*running)
    cpu = time.process_time() - cpu
    async with hub.db.reader() as session:
        rows = await session.execute(
            select(BotDelivery.conversation_id, BotDelivery.bot_ms, BotDelivery.created_at)
            .where(
                BotDelivery.id > first_log,
                BotDelivery.event == "message.created",
                BotDelivery.outcome == "ok",
            )
            .order_by(BotDelivery.id)
        )
        bot_ms: dict[int, list[tuple[int, float]]] = {}
        for cid, ms, at in rows:
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            bot_ms.setdefault(cid, []).append((ms or 0, at.timestamp()))
    overhead, whole, before_bot, after_bot = [], [], [], []
    for cid, stored, answered in sorted(trips, key=lambda t: t[1]):
        whole.append((answered - stored) * 1000)
        ms, logged = (bot_ms.get(cid) or [(0, answered)]).pop(0)
        overhead.append(whole[-1] - ms)
        before_bot.append((logged - stored) * 1000 - ms)  # stored -> event sent to the bot
        after_bot.append((answered - logged) * 1000)  # the bot's answer -> the channel
    return {
        "paced_trips": len(trips),
        "paced_rate": round(len(trips) / (time.perf_counter() - started), 1),
        "paced_overhead_ms": [round(percentile(overhead, q), 1) for q in (0.5, 0.95, 1)],
        "paced_round_trip_ms": [round(percentile(whole, q), 1) for q in (0.5, 0.95, 1)],
        "paced_to_bot_ms": [round(percentile(before_bot, q), 1) for q in (0.5, 0.95)],
        "paced_from_bot_ms": [round(percentile(after_bot, q), 1) for q in (0.5, 0.95)],
        "paced_cpu_ms": round(cpu * 1000 / max(1, len(trips)), 2),
        "conversations_open": len(senders),
    }


async def _last_delivery(hub: Hub) -> int:
    async with hub.db.reader() as session:
        return int(await session.scalar(select(func.max(BotDelivery.id))) or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description="bot gateway overhead per round trip")
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--job-concurrency", type=int, default=0, help="[jobs] concurrency (0: the default)"
    )
    parser.add_argument(
        "--rate", type=float, default=20.0, help="paced: customer messages/s over all (0: skip)"
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="paced: for how long")
    parser.add_argument("--no-burst", action="store_true", help="skip the all-at-once run")
    parser.add_argument("--statements", action="store_true", help="list the statements run")
    args = parser.parse_args()
    pace = Pace(args.rate, args.seconds) if args.rate > 0 else None
    port = _free_port()
    bot = multiprocessing.Process(target=_run_bot, args=(port,), daemon=True)
    bot.start()
    time.sleep(1.0)
    found: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
            bot_url = f"http://127.0.0.1:{port}/events"
            if not args.no_burst:
                found |= asyncio.run(run(url, args.conversations, bot_url, args.job_concurrency))
            if url.startswith("sqlite"):
                url = f"sqlite+aiosqlite:///{folder}/cost.db"
            found |= asyncio.run(cost(url, args.conversations, bot_url, args.job_concurrency, pace))
    finally:
        bot.terminate()
    _print(found, args.statements)


def _print(found: dict[str, Any], statements: bool) -> None:
    if "wall_s" in found:
        print(f"ALL AT ONCE: {found['conversations']} conversations, {found['wall_s']} s in all")
        print("  round trip ms  p50/p95/max:", *found["round_trip_ms"])
        print("  overhead ms (excluding the bot's time) p50/p95/max:", *found["overhead_ms"])
        print("  bot's own time as seen by the gateway, p95 ms:", found["bot_ms_p95"])
        print("  round trips per second:", found["per_second"])
    print("LOAD-INDEPENDENT (opening round trips, runner alone):")
    print("  gateway CPU ms per round trip:", found["cpu_ms"])
    print("  SQL statements per round trip:", found["statements"])
    if statements:
        for share, text in found["by_statement"]:
            print(f"    {share:6.2f}  {text}")
    if "paced_trips" in found:
        print(
            f"PACED: {found['conversations_open']} open conversations, "
            f"{found['paced_trips']} round trips at {found['paced_rate']}/s"
        )
        print("  overhead ms (excluding the bot's time) p50/p95/max:", *found["paced_overhead_ms"])
        print("  round trip ms p50/p95/max:", *found["paced_round_trip_ms"])
        print("  of which stored -> event sent to the bot, ms p50/p95:", *found["paced_to_bot_ms"])
        print("  of which bot's answer -> the channel, ms p50/p95:", *found["paced_from_bot_ms"])
        print("  process CPU ms per round trip (ingest included):", found["paced_cpu_ms"])


if __name__ == "__main__":
    main()

"""Benchmark: sustained API-channel ingest through the full pipeline, against a bare aiohttp
handler doing one SQLite insert per request, measured in the same run on this machine.

    .venv/bin/python -m bench.ingest [--requests 4000] [--concurrency 32] [--customers 500]
        [--database-url postgresql://user@host/empty_db]   (the hub on PostgreSQL; its schema
                                                           is dropped and recreated first)
        [--synchronous full|normal] (SQLite's synchronous for the hub; default full)
        [--compare-synchronous]     (the hub with normal, then full: the cost of full)
        [--statement-log FILE]      (append each statement the ingest writer runs to FILE, and
                                     at each flush the hub lines that caused it)
        [--profile FILE]            (the hub's process under cProfile, its stats written to
                                     FILE when it stops; read them with pstats, e.g.
                                     python -m pstats FILE, then "sort cumtime", "stats hub/")

Each server runs in its own process on 127.0.0.1; the load generator runs in this process.
Three phases, each measured on its own (server CPU per message, p50/p99 latency, and for the
hub the SQL statements and ORM flushes its ingest writer ran per message):

1. new: every customer sends one message (new customer, conversation, routing, ticket and
   acknowledgement; the phase ends when every acknowledgement has reached the mail server,
   which runs in a process of its own as a real one would);
2. returning: every customer writes again about another matter (a new thread key: a new
   conversation for a known customer), in words that match the routing rules' keywords and
   intents (billing, cancellation, outage) and the rest plain;
3. follow-up: ``--requests`` messages from those customers into their open conversations,
   with the same mix of words.

The same posts go to the bare handler. Prints both servers' figures and the hub's CPU
efficiency (the bare handler's CPU per message over the hub's; target >= 0.50).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import multiprocessing
import os
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import Post, post_all  # noqa: E402

TOKEN = "bench-inbound-token-0123456789"
STATEMENT_LOG = "RELAYDESK_BENCH_STATEMENT_LOG"
PROFILE = "RELAYDESK_BENCH_PROFILE"
FIRST = [
    "Ada",
    "Bruno",
    "Chen",
    "Dalia",
    "Emeka",
    "Farah",
    "Goran",
    "Hana",
    "Ines",
    "Jonas",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tamar",
]
LAST = [
    "Abbott",
    "Bianchi",
    "Castro",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quint",
    "Rossi",
    "Silva",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_bare(port: int, db_path: str) -> None:
    import aiosqlite

    async def make() -> web.Application:
        app = web.Application()
        connection = await aiosqlite.connect(db_path)
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=NORMAL")
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, external_id TEXT UNIQUE,"
            " address TEXT, text TEXT)"
        )
        await connection.commit()

        async def handle(request: web.Request) -> web.Response:
            payload = json.loads(await request.read())
            cursor = await connection.execute(
                "INSERT INTO messages (external_id, address, text) VALUES (?, ?, ?)",
                (payload["external_id"], payload["from"]["address"], payload["text"]),
            )
            await connection.commit()
            return web.json_response({"message_id": cursor.lastrowid}, status=201)

        app.router.add_post("/api/v1/inbound/api", handle)
        return app

    web.run_app(make(), host="127.0.0.1", port=port, print=None, access_log=None)


def reset_postgres(url: str) -> str:
    """An empty public schema in the PostgreSQL database at ``url``; returns the asyncpg URL."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    url = url.replace("postgresql://", "postgresql+asyncpg://", 1)

    async def reset() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())
    return url


def serve_sink(port: int, received: Any) -> None:
    """The mail server the hub sends its acknowledgements to, in its own process as a real one
    would be: it accepts every message and counts it."""
    from aiosmtpd.smtp import SMTP, Envelope, Session

    class Count:
        async def handle_DATA(self, _server: SMTP, _session: Session, _envelope: Envelope) -> str:
            with received.get_lock():
                received.value += 1
            return "250 OK"

    async def run() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(Count()), "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(run())


def count_ingest_statements(counts: Any) -> None:
    """Count, in ``counts`` (statements, flushes), what the hub's ingest writer task runs."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    def ingesting() -> bool:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            return False
        return task is not None and task.get_name() == "relaydesk-ingest"

    log = os.environ.get(STATEMENT_LOG)

    def on_execute(*args: Any) -> None:
        if ingesting():
            counts[0] += 1
            if log:
                with open(log, "a") as out:
                    out.write(" ".join(str(args[2]).split())[:160] + "\n")

    def on_flush(*_args: Any) -> None:
        if ingesting():
            counts[1] += 1
            if log:
                with open(log, "a") as out:
                    out.write(f"--- flush at {' < '.join(_hub_lines())}\n")

    event.listen(Engine, "before_cursor_execute", on_execute)
    event.listen(Session, "after_flush_postexec", on_flush)


def _hub_lines() -> list[str]:
    """The hub's lines on the stack of the task a flush runs for (the flush itself runs in a
    greenlet whose parent holds the task's frames), innermost first."""
    import greenlet

    frame = greenlet.getcurrent().parent.gr_frame
    found: list[str] = []
    while frame is not None and len(found) < 6:
        code = frame.f_code
        if "/hub/" in code.co_filename:
            found.append(f"{Path(code.co_filename).name}:{frame.f_lineno}:{code.co_name}")
        frame = frame.f_back
    return found


def serve_hub(
    port: int,
    db_path: str,
    smtp_port: int,
    database_url: str | None = None,
    synchronous: str = "full",
    counts: Any = None,
) -> None:
    import logging

    from hub.app import create_app
    from hub.config.settings import load_settings
    from hub.platform.migrate import upgrade

    logging.basicConfig(level=logging.WARNING)
    if counts is not None:
        count_ingest_statements(counts)
    url = reset_postgres(database_url) if database_url else f"sqlite+aiosqlite:///{db_path}"
    upgrade(url)
    settings = load_settings(
        ROOT / "config" / "relaydesk.toml",
        environ={},
        overrides={
            "database.url": url,
            "database.auto_migrate": False,
            "capture.enabled": False,
            "channels.mail.smtp_port": smtp_port,
            "channels.mail.inbound_smtp": f"127.0.0.1:{free_port()}",
            "channels.api.token": TOKEN,
            "database.sqlite_synchronous": synchronous,
        },
    )
    profile_to = os.environ.get(PROFILE)
    profile = cProfile.Profile() if profile_to else None
    if profile is not None:
        profile.enable()
    try:
        web.run_app(
            create_app(settings, long_running=True),
            host="127.0.0.1",
            port=port,
            print=None,
            access_log=None,
        )
    finally:
        if profile is not None and profile_to:
            profile.disable()
            profile.dump_stats(profile_to)


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(1200):  # migrations on a busy machine can take a while
            try:
                async with session.get(url) as response:
                    await response.read()
                    return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"server at {url} did not start")


# What customers write: a quarter plain, the rest matching the example config's routing rules
# (billing keywords, the cancellation intents, the outage keywords).
TEXTS = (
    "Hello, this is message {n}. My order has not arrived yet.",
    "I was charged twice for order {n}, please check the invoice.",
    "Please cancel my order {n}, I want a refund.",
    "The site is down since this morning (ticket {n}), this is urgent.",
)


async def load(
    url: str,
    requests: int,
    concurrency: int,
    customers: int,
    tag: str,
    *,
    mixed: bool = True,
    thread: str | None = None,
) -> dict[str, float]:
    def posts() -> Iterator[Post]:
        for n in range(requests):
            who = n % customers
            name = f"{FIRST[who % len(FIRST)]} {LAST[(who // len(FIRST)) % len(LAST)]}"
            text = TEXTS[(n // 3) % len(TEXTS)] if mixed else TEXTS[0]
            body: dict[str, Any] = {
                "external_id": f"{tag}-{n}",
                "from": {"address": f"customer{who}@example.com", "name": name},
                "text": text.format(n=n),
            }
            if thread is not None:
                body["thread_key"] = f"{thread}-{who}"
            yield url, {"json": body, "headers": {"Authorization": f"Bearer {TOKEN}"}}

    return await post_all(posts(), concurrency, expect=201)


async def drained(received: Any, expected: int) -> None:
    for _ in range(6000):
        if received.value >= expected:
            return
        await asyncio.sleep(0.02)
    raise RuntimeError(f"only {received.value} of {expected} acknowledgements were delivered")


async def settled(received: Any) -> float:
    """Until the mail server has heard nothing new for half a second; returns when it last
    heard something (``time.perf_counter``), or when the wait began if it heard nothing."""
    seen, last = received.value, time.perf_counter()
    while time.perf_counter() - last < 0.5:
        await asyncio.sleep(0.02)
        if received.value != seen:
            seen, last = received.value, time.perf_counter()
    return last


def cpu_seconds(pid: int | None) -> float:
    """CPU time a server process has used so far (Linux; 0 elsewhere). On a shared machine the
    CPU per message is steadier than messages per second."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


PHASES = ("new", "returning", "follow-up")


def run_target(
    name: str, args: argparse.Namespace, workdir: Path, synchronous: str = "full"
) -> dict[str, dict[str, float]]:
    """Each phase's figures: rate, p50/p99, errors, server CPU ms per message and (the hub)
    statements and flushes per message."""
    port = free_port()
    db_path = str(workdir / f"{name}.db")
    received = multiprocessing.Value("i", 0)
    counts = multiprocessing.Array("l", 2)
    sink = None
    if name == "bare":
        process = multiprocessing.Process(target=serve_bare, args=(port, db_path), daemon=True)
    else:
        smtp_port = free_port()
        sink = multiprocessing.Process(target=serve_sink, args=(smtp_port, received), daemon=True)
        sink.start()
        process = multiprocessing.Process(
            target=serve_hub,
            args=(port, db_path, smtp_port, args.database_url, synchronous, counts),
            daemon=True,
        )
    process.start()
    url = f"http://127.0.0.1:{port}/api/v1/inbound/api"
    results: dict[str, dict[str, float]] = {}

    def measure(phase: str, messages: int, **options: Any) -> None:
        cpu, statements, flushes = cpu_seconds(process.pid), counts[0], counts[1]
        began = time.perf_counter()
        found = asyncio.run(
            load(url, messages, args.concurrency, args.customers, f"{name}-{phase}", **options)
        )
        ended = time.perf_counter()
        if sink is not None and phase == "new":  # ends when every acknowledgement is out
            asyncio.run(drained(received, args.customers))
            ended = time.perf_counter()
        elif sink is not None:  # ends with the last mail the phase sent, not the quiet after
            ended = asyncio.run(settled(received))
        found["rate"] = messages / (ended - began)
        found["cpu_ms"] = (cpu_seconds(process.pid) - cpu) * 1000 / messages
        found["statements"] = (counts[0] - statements) / messages
        found["flushes"] = (counts[1] - flushes) / messages
        results[phase] = found

    try:
        asyncio.run(wait_up(url))
        measure("new", args.customers, mixed=not args.first_only)
        if not args.first_only:
            measure("returning", args.customers, thread="matter")
        measure("follow-up", args.requests, mixed=not args.first_only)
        return results
    finally:
        for child in (process, sink):
            if child is not None:
                child.terminate()
                child.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument(
        "--database-url", help="run the hub on this (empty, reset) PostgreSQL database instead"
    )
    parser.add_argument("--synchronous", choices=("full", "normal"), default="full")
    parser.add_argument("--compare-synchronous", action="store_true")
    parser.add_argument(
        "--first-only",
        action="store_true",
        help="the old load: first messages and plain follow-ups, no returning customers",
    )
    parser.add_argument("--statement-log", help="append the ingest writer's statements here")
    parser.add_argument("--profile", help="write the hub process's cProfile stats here")
    args = parser.parse_args()
    if args.statement_log:  # read by the hub's process (count_ingest_statements)
        os.environ[STATEMENT_LOG] = args.statement_log
    if args.profile:  # read by the hub's process (serve_hub)
        os.environ[PROFILE] = args.profile
    if args.compare_synchronous:
        compare_synchronous(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        bare = run_target("bare", args, Path(tmp))
        hub = run_target("hub", args, Path(tmp), args.synchronous)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{args.requests} follow-ups, {args.customers} customers, {args.concurrency} concurrent,"
        f" hub on {database}{' (first messages only)' if args.first_only else ''}"
    )
    print(
        f"{'phase':10s} {'server':5s} {'msg/s':>7s} {'p50 ms':>7s} {'p99 ms':>7s} {'err':>4s}"
        f" {'CPU ms/msg':>10s} {'stmts/msg':>9s} {'flush/msg':>9s} {'CPU eff.':>8s}"
    )
    for phase in PHASES:
        if phase not in hub:
            continue
        for server, result in (("bare", bare[phase]), ("hub", hub[phase])):
            counted = server == "hub"
            efficiency = bare[phase]["cpu_ms"] / result["cpu_ms"] if result["cpu_ms"] else 0
            print(
                f"{phase:10s} {server:5s} {result['rate']:7.0f} {result['p50_ms']:7.1f}"
                f" {result['p99_ms']:7.1f} {int(result['errors']):4d} {result['cpu_ms']:10.3f}"
                + (
                    f" {result['statements']:9.1f} {result['flushes']:9.2f} {efficiency:8.2f}"
                    if counted
                    else ""
                )
            )
    print(
        "statements and flushes: the hub's ingest writer only, per message, shared by the"
        " messages of one group commit (--concurrency 1 shows them per message alone)"
    )


def compare_synchronous(args: argparse.Namespace) -> None:
    """The hub on SQLite with synchronous=NORMAL, then FULL, same load: the cost of FULL."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for level in ("normal", "full"):
            results[level] = run_target(f"hub-{level}", args, Path(tmp), level)["follow-up"]
    print(
        f"{args.requests} requests, {args.concurrency} concurrent, {args.customers} customers,"
        " hub on SQLite"
    )
    for level, result in results.items():
        print(
            f"synchronous={level.upper():6s} sustained {result['rate']:7.0f} msg/s  "
            f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
            f"errors {int(result['errors'])}"
        )
    cost = 1 - results["full"]["rate"] / results["normal"]["rate"]
    print(f"cost of FULL: {cost:.0%} of sustained throughput")


if __name__ == "__main__":
    main()

"""Benchmark: sustained API-channel ingest through the full pipeline, against a bare aiohttp
handler doing one SQLite insert per request, measured in the same run on this machine.

    .venv/bin/python bench/ingest.py [--requests 4000] [--concurrency 32] [--customers 500]

Each server runs in its own process on 127.0.0.1; the load generator runs in this process.
First every customer sends one message (new customer, conversation, routing, ticket and
acknowledgement: reported as the new-conversation rate), then the measured phase sends the sustained
traffic into those conversations. Prints messages/s and p50/p99 latency for both servers, and the
ratio (target: >= 30%).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOKEN = "bench-inbound-token-0123456789"
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


def serve_hub(port: int, db_path: str, smtp_port: int) -> None:
    import logging

    from hub.db.migrate import upgrade
    from hub.settings import load_settings
    from hub.web.app import create_app

    logging.basicConfig(level=logging.WARNING)
    url = f"sqlite+aiosqlite:///{db_path}"
    upgrade(url)
    settings = load_settings(
        ROOT / "config" / "relaydesk.toml",
        environ={},
        overrides={
            "database.url": url,
            "database.auto_migrate": False,
            "capture.enabled": True,
            "capture.port": smtp_port,
            "channels.mail.smtp_port": smtp_port,
            "channels.api.token": TOKEN,
        },
    )
    web.run_app(create_app(settings), host="127.0.0.1", port=port, print=None, access_log=None)


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(url) as response:
                    await response.read()
                    return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"server at {url} did not start")


async def load(
    url: str, requests: int, concurrency: int, customers: int, tag: str
) -> dict[str, float]:
    latencies: list[float] = []
    counter = iter(range(requests))
    errors = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        for n in counter:
            who = n % customers
            name = f"{FIRST[who % len(FIRST)]} {LAST[(who // len(FIRST)) % len(LAST)]}"
            body = {
                "external_id": f"{tag}-{n}",
                "from": {"address": f"customer{who}@example.com", "name": name},
                "text": f"Hello, this is message {n}. My order has not arrived yet.",
            }
            started = time.perf_counter()
            async with session.post(
                url, json=body, headers={"Authorization": f"Bearer {TOKEN}"}
            ) as response:
                await response.read()
                if response.status != 201:
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
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
        "requests": len(latencies),
    }


def run_target(name: str, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    port = free_port()
    db_path = str(workdir / f"{name}.db")
    if name == "bare":
        process = multiprocessing.Process(target=serve_bare, args=(port, db_path), daemon=True)
    else:
        process = multiprocessing.Process(
            target=serve_hub, args=(port, db_path, free_port()), daemon=True
        )
    process.start()
    url = f"http://127.0.0.1:{port}/api/v1/inbound/api"
    try:
        asyncio.run(wait_up(url))
        # Phase 1: one message per customer: each opens a customer, conversation, ticket, ack.
        first = asyncio.run(
            load(url, args.customers, args.concurrency, args.customers, f"{name}-new")
        )
        # Phase 2: sustained traffic from those customers into their open conversations.
        sustained = asyncio.run(load(url, args.requests, args.concurrency, args.customers, name))
        return {"new_rate": first["rate"], **sustained}
    finally:
        process.terminate()
        process.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--customers", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare = run_target("bare", args, Path(tmp))
        hub = run_target("hub", args, Path(tmp))
    print(f"{args.requests} requests, {args.concurrency} concurrent, {args.customers} customers")
    for name, result in (("bare handler (1 insert)", bare), ("relaydesk full pipeline", hub)):
        print(
            f"{name:26s} sustained {result['rate']:7.0f} msg/s  p50 {result['p50_ms']:6.1f} ms  "
            f"p99 {result['p99_ms']:6.1f} ms  errors {int(result['errors'])}"
        )
    print(f"relaydesk new conversations (customer+routing+ticket+ack): {hub['new_rate']:.0f} msg/s")
    print(
        f"ratio (sustained): {hub['rate'] / bare['rate']:.0%} of the bare handler (target >= 30%)"
    )


if __name__ == "__main__":
    main()

"""Benchmark: the hub as 1, 2 and 3 processes on one PostgreSQL database (a script, not a
test): ingest throughput as processes are added, and how long a message taken in by one
process takes to appear on an inbox served by another.

    .venv/bin/python -m bench.processes [--database-url postgresql://postgres@127.0.0.1/postgres]
                                        [--requests 2000] [--concurrency 32] [--samples 40]

For each process count a fresh database is created next to the given one (and dropped after),
migrated once, and ``relaydesk serve`` is started that many times on ports of its own (the
first runs the listeners, as docs/deploy.md describes); the load generator spreads API-channel
messages from 200 customers over the processes round robin, as a proxy would. Then an inbox is
opened on the last process, messages are posted to the first, and the time until each one's
event arrives on that inbox's stream is measured (the "within 1 s p95" figure). "CPU ms/msg" is
the CPU time all hub processes spent per message (from /proc, so independent of the machine's
load); "load" is the 1-minute load average when the row was measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import aiohttp  # noqa: E402
import asyncpg  # type: ignore[import-untyped]  # noqa: E402

from bench.ingest import free_port  # noqa: E402
from bench.loadgen import Post, post_all  # noqa: E402
from hub.core.staff import add_agent  # noqa: E402
from hub.db.models import Role  # noqa: E402
from hub.platform.database import open_database  # noqa: E402
from hub.platform.migrate import upgrade  # noqa: E402

SCRIPT = Path(sys.executable).with_name("relaydesk")
TOKEN = "demo-inbound-token-0123456789"
PASSWORD = "bench processes password"


async def create_database(base: str) -> tuple[str, str]:
    name = f"relaydesk_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(base)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = base.rsplit("/", 1)[0] + "/" + name
    return name, url.replace("postgresql://", "postgresql+asyncpg://")


async def drop_database(base: str, name: str) -> None:
    admin = await asyncpg.connect(base)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def supervisor(url: str) -> None:
    db = open_database(url)
    async with db.writer() as session:
        await add_agent(
            session,
            email="boss@bench.example",
            name="Boss",
            role=Role.SUPERVISOR,
            now=datetime.now(UTC),
            password=PASSWORD,
        )
        await session.commit()
    await db.dispose()


def start(url: str, count: int) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    processes, ports = [], []
    for index in range(count):
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
        env |= {
            "RELAYDESK_CONFIG": str(ROOT / "config" / "relaydesk.toml"),
            "RELAYDESK_DATABASE_URL": url,
            "RELAYDESK_DATABASE__AUTO_MIGRATE": "false",
            "RELAYDESK_CAPTURE__ENABLED": "false",
            "RELAYDESK_CHANNELS__MAIL__INBOUND_SMTP": "127.0.0.1:0",
            "RELAYDESK_CHANNELS__MAIL__SMTP_PORT": str(free_port()),  # nothing listens: retries
            "RELAYDESK_OPERATIONS__LISTENERS": "true" if index == 0 else "false",
        }
        processes.append(
            subprocess.Popen(
                [str(SCRIPT), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        ports.append(port)
    return processes, ports


async def healthy(ports: list[int]) -> None:
    async with aiohttp.ClientSession() as http:
        for port in ports:
            for _ in range(1200):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"hub on {port} did not start")


async def throughput(ports: list[int], requests: int, concurrency: int) -> dict[str, float]:
    tag = uuid.uuid4().hex[:6]

    def posts() -> Iterator[Post]:
        for n in range(requests):
            port = ports[n % len(ports)]
            body = {
                "external_id": f"{tag}-{n}",
                "from": {"address": f"customer{n % 200}@bench.example", "name": f"C {n % 200}"},
                "text": f"Message {n}: where is my parcel?",
            }
            url = f"http://127.0.0.1:{port}/api/v1/inbound/api"
            yield url, {"json": body, "headers": {"Authorization": f"Bearer {TOKEN}"}}

    return await post_all(posts(), concurrency, expect=201)


async def live_latency(first: int, last: int, samples: int) -> list[float]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{last}", cookie_jar=jar) as inbox:
        page = await (await inbox.get("/ui/login")).text()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf is not None
        signed = await inbox.post(
            "/ui/login",
            data={"csrf_token": csrf.group(1), "email": "boss@bench.example", "password": PASSWORD},
            allow_redirects=False,
        )
        assert signed.status == 303, await signed.text()
        stream = await inbox.get("/ui/events", headers={"Accept": "text/event-stream"})
        seen: dict[int, float] = {}

        async def follow() -> None:
            async for raw in stream.content:
                found = re.search(r'"conversation_id": (\d+)', raw.decode())
                if found is not None:
                    seen.setdefault(int(found.group(1)), time.perf_counter())

        reader = asyncio.create_task(follow())
        spent = []
        async with aiohttp.ClientSession() as poster:
            for n in range(samples):
                posted = time.perf_counter()
                response = await poster.post(
                    f"http://127.0.0.1:{first}/api/v1/inbound/api",
                    json={
                        "external_id": f"live-{uuid.uuid4().hex}",
                        "from": {"address": f"live{n}-{uuid.uuid4().hex[:6]}@bench.example"},
                        "text": "Is anyone there?",
                    },
                    headers={"Authorization": f"Bearer {TOKEN}"},
                )
                conversation = int((await response.json())["conversation_id"])
                async with asyncio.timeout(10):
                    while conversation not in seen:
                        await asyncio.sleep(0.002)
                spent.append((seen[conversation] - posted) * 1000)
                await asyncio.sleep(0.05)
        reader.cancel()
        stream.close()
    return spent


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (load-independent, unlike wall time)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(base: str, count: int, args: argparse.Namespace) -> dict[str, float]:
    name, url = await create_database(base)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        await asyncio.to_thread(upgrade, url)
        await supervisor(url)
        processes, ports = start(url, count)
        await healthy(ports)
        cpu_before = sum(cpu_seconds(process.pid) for process in processes)
        load = await throughput(ports, args.requests, args.concurrency)
        cpu = sum(cpu_seconds(process.pid) for process in processes) - cpu_before
        load |= {"cpu_ms": cpu * 1000 / args.requests, "loadavg": os.getloadavg()[0]}
        latency = sorted(await live_latency(ports[0], ports[-1], args.samples))
        return load | {
            "live_p50": statistics.median(latency),
            "live_p95": latency[max(0, int(len(latency) * 0.95) - 1)],
        }
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        await drop_database(base, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    base = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
    print(f"{'processes':>9} {'msg/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
          f" {'live p50':>9} {'live p95':>9} {'CPU ms/msg':>10} {'load':>5}")  # fmt: skip
    for count in args.processes:
        figures = asyncio.run(run(base, count, args))
        print(
            f"{count:>9} {figures['rate']:8.0f} {figures['p50_ms']:8.1f} {figures['p99_ms']:8.1f}"
            f" {int(figures['errors']):>7} {figures['live_p50']:9.1f} {figures['live_p95']:9.1f}"
            f" {figures['cpu_ms']:10.2f} {figures['loadavg']:5.1f}",
            flush=True,
        )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()

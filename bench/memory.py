"""Benchmark: resident memory of one ``relaydesk serve`` process serving 100k conversations, on
SQLite and on PostgreSQL (a script, not a test). The target is RSS <= 200 MB per process.

    .venv/bin/python -m bench.memory [--conversations 100000] [--messages-per 10]
                                     [--rounds 3] [--stores sqlite postgresql]
                                     [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
                                     [--sqlite PATH]   (an existing loaded file is reused)

Seeds with bench/inbox.py's loader (customers, conversations, tickets, messages; PostgreSQL in a
fresh database next to the given one, dropped after), starts ``relaydesk serve`` as a separate
process, and reads its VmRSS/VmHWM from /proc: once up and idle, then after each round of a
realistic mix: inbox lists (views, sorts, filters, a second page), random conversation pages,
search, customers, reports, the live view, the REST API (conversation lists and messages),
and API-channel messages taken in (which queue acknowledgements in the outbox). Rounds repeat
the mix: memory that keeps growing round after round is a leak, not a working set.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import aiohttp  # noqa: E402
import asyncpg  # type: ignore[import-untyped]  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench import inbox  # noqa: E402
from bench.ingest import free_port  # noqa: E402
from bench.processes import drop_database  # noqa: E402
from hub.core.staff import create_token  # noqa: E402
from hub.db.models import Agent  # noqa: E402
from hub.platform.database import open_database  # noqa: E402
from hub.platform.migrate import upgrade  # noqa: E402

SCRIPT = Path(sys.executable).with_name("relaydesk")


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (peak resident) of a process, in MB."""
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024
    return found


async def seed_sqlite(path: Path, conversations: int, messages_per: int) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    fresh = not path.exists()
    await asyncio.to_thread(upgrade, url)
    if fresh:
        print(f"sqlite: loading {conversations} conversations into {path}", flush=True)
        await asyncio.to_thread(inbox.load, url, conversations, messages_per, 7)
    import sqlite3

    with sqlite3.connect(path) as db:  # the loader numbered tickets itself
        db.execute(
            "INSERT OR REPLACE INTO counters (name, value)"
            " SELECT 'ticket', coalesce(max(number), 999) FROM tickets"
        )
    return url


async def seed_postgres(base: str, conversations: int, messages_per: int) -> tuple[str, str]:
    name = f"relaydesk_memory_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(base)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = (base.rsplit("/", 1)[0] + "/" + name).replace("postgresql://", "postgresql+asyncpg://")
    await asyncio.to_thread(upgrade, url)
    print(f"postgresql: loading {conversations} conversations into {name}", flush=True)
    await inbox.load_postgres(url, conversations, messages_per, 7)
    return name, url


async def api_token(url: str) -> str:
    db = open_database(url)
    try:
        async with db.writer() as session:
            agent = await session.scalar(select(Agent).where(Agent.id == 1))
            assert agent is not None
            token = await create_token(session, agent, datetime.now(UTC), "bench.memory")
            await session.commit()
            return token
    finally:
        await db.dispose()


def start(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
    env |= {
        "RELAYDESK_CONFIG": str(ROOT / "config" / "relaydesk.toml"),
        "RELAYDESK_DATABASE_URL": url,
        "RELAYDESK_DATABASE__AUTO_MIGRATE": "false",
        "RELAYDESK_CAPTURE__ENABLED": "false",
        "RELAYDESK_CHANNELS__MAIL__INBOUND_SMTP": "127.0.0.1:0",
        "RELAYDESK_CHANNELS__MAIL__SMTP_PORT": str(free_port()),  # nothing listens: retries
    }
    return subprocess.Popen(
        [str(SCRIPT), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def get(http: aiohttp.ClientSession, path: str, **kwargs: Any) -> None:
    async with http.get(path, **kwargs) as response:
        await response.read()
        assert response.status == 200, (path, response.status)


async def round_of(
    admin: aiohttp.ClientSession,
    agent: aiohttp.ClientSession,
    token: str,
    conversations: int,
    rng: random.Random,
    requests: int,
) -> None:
    """One round of the mix: about ``requests`` conversation pages and the rest around them."""
    bearer = {"Authorization": f"Bearer {token}"}
    for view in ("all", "mine", "teams", "unassigned"):
        for sort in ("waiting", "recent", "sla"):
            await get(agent if view != "all" else admin, f"/ui/inbox?view={view}&sort={sort}")
    await get(admin, "/ui/inbox?view=all&status=all&sort=sla")
    await get(admin, "/ui/inbox?view=all&sla=breached&sort=sla")
    await get(admin, await inbox.next_page(admin, "view=all&sort=sla"))
    await get(admin, "/ui/inbox/rows?view=all")
    for _ in range(requests):
        number = 1 + rng.randrange(conversations)
        await get(admin, f"/ui/conversations/{number}")
        await get(admin, f"/api/v1/conversations/{number}/messages", headers=bearer)
    for word in ("refund", "parcel", "invoice password"):
        await get(admin, f"/ui/inbox?view=all&q={word}")
        await get(admin, f"/ui/search?q={word}")
    for path in ("/ui/customers", "/ui/reports", "/ui/reports/sla", "/ui/reports/agents"):
        await get(admin, path)
    await get(admin, "/ui/live")
    await get(admin, "/api/v1/conversations?limit=100", headers=bearer)
    await get(admin, "/api/v1/conversations?status=open&limit=100", headers=bearer)
    for n in range(max(10, requests // 5)):
        async with admin.post(
            "/api/v1/inbound/api",
            json={
                "external_id": f"memory-{time.time_ns()}-{n}",
                "from": {"address": f"mem{n}@bench.example", "name": f"Memory {n}"},
                "text": "Where is my parcel?",
            },
            headers={"Authorization": f"Bearer {inbox.API_TOKEN}"},
        ) as response:
            assert response.status == 201, await response.text()


async def measure(url: str, conversations: int, rounds: int, requests: int) -> list[tuple]:
    token = await api_token(url)
    port = free_port()
    process = start(url, port)
    rows: list[tuple] = []
    try:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as probe:
            for _ in range(1200):
                try:
                    async with probe.get(base + "/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert process.poll() is None, "serve exited"
                await asyncio.sleep(0.1)
        await asyncio.sleep(2)
        rows.append(("up, idle", memory_mb(process.pid)))
        print(f"  {rows[-1][0]}: {rows[-1][1]}", flush=True)
        rng = random.Random(11)
        jars = (aiohttp.CookieJar(unsafe=True), aiohttp.CookieJar(unsafe=True))
        async with (
            aiohttp.ClientSession(base_url=base, cookie_jar=jars[0]) as admin,
            aiohttp.ClientSession(base_url=base, cookie_jar=jars[1]) as agent,
        ):
            await inbox.sign_in(admin, "agent0@bench.example")
            await inbox.sign_in(agent, "agent2@bench.example")
            for number in range(1, rounds + 1):
                await round_of(admin, agent, token, conversations, rng, requests)
                rows.append((f"after round {number}", memory_mb(process.pid)))
                print(f"  {rows[-1][0]}: {rows[-1][1]}", flush=True)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=100, help="conversation pages per round")
    parser.add_argument("--stores", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sqlite", help="SQLite file to use (a loaded one is reused)")
    args = parser.parse_args()
    results: dict[str, list[tuple]] = {}
    for store in args.stores:
        if store == "sqlite":
            path = (
                Path(args.sqlite)
                if args.sqlite
                else Path(tempfile.mkdtemp(prefix="rd-memory-")) / "bench.db"
            )
            url = asyncio.run(seed_sqlite(path, args.conversations, args.messages_per))
            results[store] = asyncio.run(
                measure(url, args.conversations, args.rounds, args.requests)
            )
            continue
        base = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
        name, url = asyncio.run(seed_postgres(base, args.conversations, args.messages_per))
        try:
            results[store] = asyncio.run(
                measure(url, args.conversations, args.rounds, args.requests)
            )
        finally:
            asyncio.run(drop_database(base, name))
    print(f"\n{'store':<11} {'when':<16} {'VmRSS MB':>9} {'VmHWM MB':>9}")
    for store, rows in results.items():
        for when, figures in rows:
            print(f"{store:<11} {when:<16} {figures['VmRSS']:9.1f} {figures['VmHWM']:9.1f}")
    print(
        f"{args.conversations} conversations x {args.messages_per} messages;"
        f" target VmHWM <= 200 MB; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()

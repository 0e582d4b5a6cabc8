"""Benchmark: what every signed-in page pays before its own work, the session, the agent, their
teams and the navigation's unread-notice count, for a supervisor with many notices and several
teams (a script, not a test).

    .venv/bin/python -m bench.navigation [--notices 3600 200000] [--teams 1 6] [--requests 100]
                                         [--workdir DIR]   (keeps the seeded databases)

For each notice count a SQLite database is migrated and seeded with one supervisor, the teams
and that many notices addressed to them, 95% of them read. The app is started in this process
on 127.0.0.1 and the supervisor signs in; then, for each team count, the supervisor is put in
that many teams and the canned-replies page (a light page: little work of its own) is asked for
``--requests`` times. Prints p50/p95 of the page and the unread count it showed.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import aiohttp  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from sqlalchemy import delete, func, insert, select, update  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bench.inbox import PASSWORD, settings_for, sign_in  # noqa: E402
from bench.ingest import free_port  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.core.staff import hash_password  # noqa: E402
from hub.db.models import Agent, AgentTeam, Team  # noqa: E402
from hub.db.notice_models import NoticeRead  # noqa: E402
from hub.db.routing_models import AdminNotice  # noqa: E402
from hub.platform.migrate import upgrade  # noqa: E402

EMAIL = "boss@bench.example"
MOST_TEAMS = 12
BATCH = 20_000


async def seed(url: str, notices: int) -> None:
    """One supervisor, ``MOST_TEAMS`` teams, ``notices`` notices for them (every 20th unread)."""
    engine = create_async_engine(url)
    async with engine.begin() as db:
        if await db.scalar(select(func.count()).select_from(Agent)):
            await engine.dispose()
            return
        now = datetime.now(UTC)
        boss = await db.scalar(
            insert(Agent)
            .values(
                email=EMAIL,
                name="Bench Boss",
                role="supervisor",
                password_hash=hash_password(PASSWORD),
                created_at=now,
            )
            .returning(Agent.id)
        )
        await db.execute(
            insert(Team),
            [
                {"slug": f"team{n}", "name": f"Team {n}", "created_at": now}
                for n in range(MOST_TEAMS)
            ],
        )
        for start in range(0, notices, BATCH):
            count = min(BATCH, notices - start)
            rows = [
                {"kind": "sla_warning", "text": "Due soon", "agent_id": boss, "created_at": now}
                for _ in range(count)
            ]
            ids = list(await db.scalars(insert(AdminNotice).returning(AdminNotice.id), rows))
            reads = [{"notice_id": i, "agent_id": boss, "read_at": now} for i in ids if i % 20]
            if reads:
                await db.execute(insert(NoticeRead), reads)
        await db.execute(  # what reading them did to the notices themselves
            update(AdminNotice)
            .where(AdminNotice.agent_id == boss, AdminNotice.id % 20 != 0)
            .values(read_at=now)
        )
    await engine.dispose()


async def put_in_teams(url: str, teams: int) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as db:
        boss = await db.scalar(select(Agent.id).where(Agent.email == EMAIL))
        await db.execute(delete(AgentTeam).where(AgentTeam.agent_id == boss))
        team_ids = list(await db.scalars(select(Team.id).order_by(Team.id).limit(teams)))
        if team_ids:
            await db.execute(
                insert(AgentTeam), [{"agent_id": boss, "team_id": t} for t in team_ids]
            )
    await engine.dispose()


async def measure(url: str, team_counts: list[int], requests: int) -> list[tuple[int, dict]]:
    server = TestServer(create_app(settings_for(url, free_port())), host="127.0.0.1")
    await server.start_server()
    results = []
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(
            base_url=str(server.make_url("/")), cookie_jar=jar
        ) as http:
            await sign_in(http, EMAIL)
            for teams in team_counts:
                await put_in_teams(url, teams)
                spent: list[float] = []
                unread = ""
                for n in range(requests + 5):
                    started = time.perf_counter()
                    async with http.get("/ui/canned") as response:
                        page = await response.text()
                        if response.status != 200:
                            raise RuntimeError(f"{response.status}: {page[:300]}")
                    if n >= 5:  # the first few warm the caches
                        spent.append((time.perf_counter() - started) * 1000)
                found = re.search(r'aria-label="Notices, (\d+) unread"', page)
                unread = found.group(1) if found else "0"
                spent.sort()
                results.append(
                    (
                        teams,
                        {
                            "p50": statistics.median(spent),
                            "p95": spent[int(len(spent) * 0.95) - 1],
                            "unread": unread,
                        },
                    )
                )
    finally:
        await server.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, nargs="+", default=[3_600, 200_000])
    parser.add_argument("--teams", type=int, nargs="+", default=[1, 6])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    if any(not 0 <= t <= MOST_TEAMS for t in args.teams):
        parser.error(f"--teams: between 0 and {MOST_TEAMS}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="relaydesk-navigation-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"{'notices':>9} {'teams':>6} {'unread':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for notices in args.notices:
        url = f"sqlite+aiosqlite:///{workdir / f'navigation-{notices}.db'}"
        upgrade(url)
        asyncio.run(seed(url, notices))
        for teams, figures in asyncio.run(measure(url, args.teams, args.requests)):
            print(
                f"{notices:>9,} {teams:>6} {figures['unread']:>7}"
                f" {figures['p50']:>8.1f} {figures['p95']:>8.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()

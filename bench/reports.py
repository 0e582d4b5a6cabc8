"""Benchmark: every report page and report API call over a 90-day range on a big history
(a script, not a test).

    .venv/bin/python -m bench.reports [--customers 100000] [--conversations 100000]
        [--messages 1000000] [--requests 40] [--db PATH | --url postgresql+asyncpg://...]

Bulk-loads customers, conversations and their message logs (customer messages, agent replies,
acknowledgements, "Status changed to resolved" events), surveys sent, satisfaction answers and
SLA breaches over the last 90 days with SQLAlchemy Core, then runs the real ``relaydesk
reports rebuild`` (replay into facts, rollups in bulk) to seed the reporting tables, starts the
hub in this process on 127.0.0.1, signs in a supervisor
and times each report page and API call end to end over HTTP with the filters people use (none,
a channel, a team, an agent, a tier, and a combination). Prints p50/p95/max per call and the
seeding times; the target is p95 <= 200 ms. Results also go to bench/results/reports.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This folder holds scripts (one is named email.py), not modules: keep it off the import path.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import aiohttp  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from sqlalchemy import event, insert  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from hub.app import create_app  # noqa: E402
from hub.config.settings import Settings, load_settings  # noqa: E402
from hub.core.staff import hash_password  # noqa: E402
from hub.db.base import Base  # noqa: E402
from hub.platform.database import open_database  # noqa: E402
from hub.platform.migrate import upgrade  # noqa: E402
from hub.reports.rebuild import rebuild  # noqa: E402
from hub.reports.record import Reports  # noqa: E402

PASSWORD = "bench-password-1"
BATCH = 20_000
DAYS = 90
CHANNELS = ["mail"] * 6 + ["contact"] * 2 + ["api"] * 2
TIERS = ["standard"] * 7 + ["gold"] * 2 + ["platinum"]
TEAMS = ("support", "billing", "sales")
AGENTS = 40
OFFICE = {
    "timezone": "UTC",
    "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
}


def table(name: str) -> Any:
    return Base.metadata.tables[name]


def settings_for(url: str) -> Settings:
    return load_settings(
        ROOT / "config" / "relaydesk.toml",
        environ={},
        overrides={
            "database.url": url,
            "database.auto_migrate": False,
            "capture.enabled": False,
            "calendars.office": OFFICE,
            "reports.calendar": "office",
        },
    )


async def load(
    url: str, customers: int, conversations: int, messages: int, seed: int
) -> dict[str, Any]:
    """Fill the database over the last 90 days; returns what was loaded."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    engine = create_async_engine(url)
    if url.startswith("sqlite"):

        @event.listens_for(engine.sync_engine, "connect")
        def _fast(connection: Any, _record: Any) -> None:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")

    started = time.monotonic()
    per = max(2, messages // max(conversations, 1))
    total = 0
    answers: list[dict[str, Any]] = []
    surveys: list[dict[str, Any]] = []
    breaches: list[dict[str, Any]] = []
    async with engine.begin() as db:
        await db.execute(insert(table("teams")), [{"slug": s, "name": s.title()} for s in TEAMS])
        hashed = hash_password(PASSWORD)
        await db.execute(
            insert(table("agents")),
            [
                {
                    "email": f"agent{n}@bench.example",
                    "name": f"Agent {n}",
                    "role": "supervisor" if n == 0 else "agent",
                    "password_hash": hashed,
                    "capacity": 100_000,
                    "open_count": 0,
                    "presence": "online",
                    "skills": [],
                    "active": True,
                    "created_at": now,
                }
                for n in range(AGENTS)
            ],
        )
        rows = [
            {
                "name": f"Customer {n}",
                "name_key": f"customer {n}",
                "company": "",
                "tier": rng.choice(TIERS),
                "tags": [],
                "attributes": {},
                "locale": "en",
                "timezone": "UTC",
                "consent": {},
                "notes": "",
                "created_at": now,
            }
            for n in range(customers)
        ]
        for start in range(0, len(rows), BATCH):
            await db.execute(insert(table("customers")), rows[start : start + BATCH])
        conversation_rows = []
        for n in range(conversations):
            created = now - timedelta(minutes=rng.randrange(DAYS * 24 * 60))
            team = 1 + n % len(TEAMS)
            conversation_rows.append(
                {
                    "token": f"{n:016x}",
                    "customer_id": 1 + rng.randrange(customers),
                    "channel": rng.choice(CHANNELS),
                    "subject": "Help",
                    "status": "open",
                    "priority": "normal",
                    "team_id": team,
                    "assignee_id": 2 + rng.randrange(AGENTS - 1),
                    "created_at": created,
                    "first_inbound_at": created,
                    "last_inbound_at": created,
                    "last_activity_at": created,
                }
            )
        buffer: list[dict[str, Any]] = []
        for n, conversation in enumerate(conversation_rows):
            moment = conversation["created_at"]
            agent = conversation["assignee_id"]
            count = max(2, per + rng.randrange(-2, 3))
            resolved = rng.random() < 0.6
            for k in range(count - (1 if resolved else 0)):
                if k == 1:
                    direction, author, automated = "outbound", None, True  # acknowledgement
                else:
                    inbound = k == 0 or rng.random() < 0.5
                    direction = "inbound" if inbound else "outbound"
                    author, automated = (None if inbound else agent), False
                if k:
                    moment += timedelta(minutes=rng.choice((2, 10, 45, 180, 600, 2000)))
                buffer.append(
                    {
                        "conversation_id": n + 1,
                        "customer_id": conversation["customer_id"],
                        "direction": direction,
                        "channel": conversation["channel"],
                        "author_agent_id": author,
                        "subject": "",
                        "text": "Hello there",
                        "attachments": [],
                        "raw": {},
                        "automated": automated,
                        "delivery_state": "sent" if direction == "outbound" else "received",
                        "created_at": min(moment, now),
                    }
                )
            if resolved:
                moment += timedelta(minutes=30)
                buffer.append(
                    {
                        "conversation_id": n + 1,
                        "customer_id": conversation["customer_id"],
                        "direction": "event",
                        "channel": conversation["channel"],
                        "author_agent_id": agent,
                        "subject": "",
                        "text": "Status changed to resolved",
                        "attachments": [],
                        "raw": {},
                        "automated": False,
                        "delivery_state": "none",
                        "created_at": min(moment, now),
                    }
                )
                conversation["status"] = "resolved"
                surveyed = min(moment + timedelta(minutes=5), now)
                surveys.append(
                    {
                        "kind": "followup",
                        "conversation_id": n + 1,
                        "dedupe_key": f"survey:{n + 1}:0:csat",
                        "payload": {},
                        "state": "done",
                        "outcome": "sent message 0",
                        "attempts": 1,
                        "next_attempt_at": surveyed,
                        "created_at": surveyed,
                        "finished_at": surveyed,
                    }
                )
                if rng.random() < 0.4:
                    answers.append(
                        {
                            "conversation_id": n + 1,
                            "score": rng.choice((1, 2, 3, 4, 4, 5, 5, 5)),
                            "via": "link",
                            "created_at": min(surveyed + timedelta(hours=1), now),
                        }
                    )
            if rng.random() < 0.15:
                breaches.append(
                    {
                        "conversation_id": n + 1,
                        "metric": "first_response",
                        "kind": "breach",
                        "policy": "default normal",
                        "priority": "normal",
                        "team_id": conversation["team_id"],
                        "assignee_id": agent,
                        "due_at": min(conversation["created_at"] + timedelta(hours=1), now),
                        "occurred_at": min(conversation["created_at"] + timedelta(hours=1), now),
                    }
                )
            conversation["last_activity_at"] = min(moment, now)
        for start in range(0, len(conversation_rows), BATCH):
            await db.execute(
                insert(table("conversations")), conversation_rows[start : start + BATCH]
            )
        for start in range(0, len(buffer), BATCH):
            await db.execute(insert(table("messages")), buffer[start : start + BATCH])
        total = len(buffer)
        for name, rows_of in (
            ("jobs", surveys),
            ("csat_responses", answers),
            ("sla_events", breaches),
        ):
            for start in range(0, len(rows_of), BATCH):
                await db.execute(insert(table(name)), rows_of[start : start + BATCH])
    await engine.dispose()
    return {"messages": total, "load_seconds": round(time.monotonic() - started, 1)}


async def seed_reports(settings: Settings) -> dict[str, Any]:
    db = open_database(settings.database.url)
    started = time.monotonic()
    try:
        async with db.writer() as session:
            done = await rebuild(session, Reports(settings))
            await session.commit()
    finally:
        await db.dispose()
    return {
        "rebuild_seconds": round(time.monotonic() - started, 1),
        "facts": done.facts,
        "rollup_rows": done.rollup_rows,
    }


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "max_ms": round(ordered[-1], 1),
    }


async def measure(settings: Settings, requests: int) -> dict[str, Any]:
    server = TestServer(create_app(settings, long_running=True), host="127.0.0.1")
    await server.start_server()
    end = datetime.now(UTC).date()
    period = f"start={(end - timedelta(days=DAYS - 1)).isoformat()}&end={end.isoformat()}"
    filters = ["", "&channel=mail", "&team_id=2", "&agent_id=5", "&tier=gold"]
    combined = "&team_id=1&channel=api"
    results: dict[str, Any] = {}
    try:
        base = str(server.make_url("/"))
        async with aiohttp.ClientSession(
            base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as http:
            page = await (await http.get("/ui/login")).text()
            token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            signed = await http.post(
                "/ui/login",
                data={"csrf_token": token, "email": "agent0@bench.example", "password": PASSWORD},
                allow_redirects=False,
            )
            assert signed.status == 303, await signed.text()
            calls = {
                "page /ui/reports (response times)": "/ui/reports",
                "page /ui/reports/volume": "/ui/reports/volume",
                "page /ui/reports/sla": "/ui/reports/sla",
                "page /ui/reports/csat": "/ui/reports/csat",
                "page /ui/reports/agents": "/ui/reports/agents",
                "api response-times": "/api/v1/reports/response-times",
                "api volume": "/api/v1/reports/volume",
                "api sla": "/api/v1/reports/sla",
                "api csat": "/api/v1/reports/csat",
                "api agents": "/api/v1/reports/agents",
            }
            api_token = await _api_token(settings)
            headers = {"Authorization": f"Bearer {api_token}"}
            for label, path in calls.items():
                spent = []
                for n in range(requests + 3):
                    url = f"{path}?{period}{filters[n % len(filters)]}"
                    began = time.perf_counter()
                    response = await http.get(url, headers=headers if "api" in label else None)
                    await response.read()
                    if n >= 3:  # the first calls warm up
                        spent.append((time.perf_counter() - began) * 1000)
                    assert response.status == 200, (url, response.status)
                results[label] = summary(spent)
            for label, path in (
                ("combined filters (facts): api response-times", "/api/v1/reports/response-times"),
                ("drill-down: first response 1-4h bar", "/ui/reports/conversations"),
            ):
                spent = []
                extra = combined if "combined" in label else "&metric=first_response&bucket=4"
                for _ in range(max(5, requests // 4)):
                    began = time.perf_counter()
                    response = await http.get(f"{path}?{period}{extra}", headers=headers)
                    await response.read()
                    spent.append((time.perf_counter() - began) * 1000)
                    assert response.status == 200
                results[label] = summary(spent)
    finally:
        await server.close()
    return results


async def _api_token(settings: Settings) -> str:
    from hub.core.staff import agent_by_email, create_token

    db = open_database(settings.database.url)
    try:
        async with db.writer() as session:
            agent = await agent_by_email(session, "agent0@bench.example")
            assert agent is not None
            token = await create_token(session, agent, datetime.now(UTC))
            await session.commit()
            return token
    finally:
        await db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", help="SQLite file (created and loaded if missing)")
    parser.add_argument("--url", help="an empty database's URL instead (e.g. PostgreSQL)")
    args = parser.parse_args()
    if args.url:
        url, fresh = args.url, True
    else:
        path = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix="rd-reports-")) / "b.db"
        url, fresh = f"sqlite+aiosqlite:///{path}", not path.exists()
    settings = settings_for(url)
    upgrade(url)
    figures: dict[str, Any] = {"url": url.split("@")[-1]}
    if fresh:
        print(
            f"loading {args.customers} customers, {args.conversations} conversations, "
            f"~{args.messages} messages"
        )
        figures["load"] = asyncio.run(
            load(url, args.customers, args.conversations, args.messages, args.seed)
        )
        loaded = figures["load"]
        print(f"  loaded {loaded['messages']} messages in {loaded['load_seconds']} s")
        print("seeding facts and rollups with relaydesk reports rebuild")
        figures["seed"] = asyncio.run(seed_reports(settings))
        print(
            f"  {figures['seed']['facts']} facts, {figures['seed']['rollup_rows']} rollup rows"
            f" in {figures['seed']['rebuild_seconds']} s"
        )
    figures["calls"] = asyncio.run(measure(settings, args.requests))
    width = max(len(label) for label in figures["calls"])
    print(f"{'call (90 days)':<{width}}  p50 ms  p95 ms  max ms")
    for label, numbers in figures["calls"].items():
        p50, p95, top = numbers["p50_ms"], numbers["p95_ms"], numbers["max_ms"]
        print(f"{label:<{width}}  {p50:>6}  {p95:>6}  {top:>6}")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "reports.json").write_text(json.dumps(figures, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

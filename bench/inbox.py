"""Benchmark: the agent inbox on a big database, SQLite or PostgreSQL (a script, not a test).

    .venv/bin/python -m bench.inbox [--conversations 100000] [--messages-per 10] [--requests 200]
                                    [--db PATH]   (an existing PATH is reused, after migrating)
    .venv/bin/python -m bench.inbox --db PATH --explain [--requests 40]   (query plans, DB time)
    .venv/bin/python -m bench.inbox --database-url postgresql://postgres@127.0.0.1:5432/NAME
                                    (the same on PostgreSQL: NAME must exist; loaded once, reused)

Bulk-loads customers, conversations, tickets and messages with SQLAlchemy Core inserts into a
migrated SQLite file (its full-text index filled by triggers) or PostgreSQL database, starts the
hub in this process on 127.0.0.1, signs in through the login form, and times server-rendered
pages end to end over HTTP: inbox lists (several views, filters and sorts) and conversation pages
of random conversations, the inbox's search filter and the ranked search page. Prints p50/p95/max
per page; the targets (issue #17) are p95 <= 20 ms for the inbox list and the conversation page and
p95 <= 50 ms for search. Results also go to bench/results/inbox.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This folder holds scripts (one is named email.py), not modules: keep it off the import path.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import aiohttp  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from sqlalchemy import create_engine, event, insert, text  # noqa: E402
from sqlalchemy.dialects import sqlite  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bench.ingest import free_port, serve_sink  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.config.settings import Settings, load_settings  # noqa: E402
from hub.core.authz import Principal  # noqa: E402
from hub.core.staff import hash_password  # noqa: E402
from hub.db.base import Base  # noqa: E402
from hub.db.models import Role  # noqa: E402
from hub.platform.migrate import upgrade  # noqa: E402
from hub.web.ui.inbox_query import PAGE_SIZE, InboxFilter, _phase_query, base_query  # noqa: E402

WORDS = [
    "printer",
    "invoice",
    "refund",
    "password",
    "login",
    "error",
    "shipping",
    "parcel",
    "delivery",
    "account",
    "order",
    "payment",
    "broken",
    "screen",
    "update",
    "install",
    "crash",
    "slow",
    "router",
    "wifi",
    "email",
    "reset",
    "upgrade",
    "plan",
    "discount",
    "cancel",
    "subscription",
    "warranty",
    "battery",
    "charger",
    "cable",
    "receipt",
    "address",
    "tracking",
]
FIRST = [
    "Jane",
    "Tom",
    "Priya",
    "Ahmed",
    "Olga",
    "Li",
    "Maria",
    "Noah",
    "Emma",
    "Lucas",
    "Mia",
    "Omar",
    "Sara",
    "Ivan",
    "Chen",
    "Ana",
]
LAST = [
    "Cooper",
    "Baker",
    "Raman",
    "Khan",
    "Petrova",
    "Wei",
    "Garcia",
    "Smith",
    "Jones",
    "Rossi",
    "Novak",
    "Berg",
    "Costa",
]
STATUSES = ["open"] * 30 + ["pending"] * 10 + ["snoozed"] * 5 + ["resolved"] * 55
CHANNELS = ["mail"] * 6 + ["contact"] * 3 + ["api"]
PRIORITIES = ["normal"] * 14 + ["high"] * 4 + ["urgent", "low"]
PASSWORD = "bench-password-1"
API_TOKEN = "demo-inbound-token-0123456789"  # the example config's API channel
BATCH = 20_000


def table(name: str) -> Any:
    return Base.metadata.tables[name]


async def load_postgres(url: str, conversations: int, messages_per: int, seed: int) -> None:
    """``load`` into a migrated PostgreSQL database, the ticket counter moved on, analysed."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(
                lambda sync: load(
                    url, conversations, messages_per, seed, begin=lambda: nullcontext(sync)
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO counters (name, value) SELECT 'ticket', coalesce(max(number), 999)"
                    " FROM tickets ON CONFLICT (name) DO UPDATE SET value = excluded.value"
                )
            )
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            # As autovacuum would have it: the loader's messages updated their conversations
            # (the last-party trigger), which left nine dead rows of ten in that table.
            await connection.execute(text("VACUUM FULL conversations"))
            await connection.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()


async def loaded_postgres(url: str) -> bool:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return bool(
                await connection.scalar(
                    text("SELECT count(*) FROM (SELECT 1 FROM messages LIMIT 1) AS m")
                )
            )
    finally:
        await engine.dispose()


def sentence(rng: random.Random, size: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(size)).capitalize() + "."


def load(
    url: str,
    conversations: int,
    messages_per: int,
    seed: int,
    begin: Callable[[], AbstractContextManager[Any]] | None = None,
) -> dict[str, Any]:
    """Fill the database; returns ids the measurements use. ``begin`` gives the connection to
    fill instead of a SQLite file's (bench/memory.py fills PostgreSQL through ``run_sync``)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    engine = create_engine(url.replace("+aiosqlite", "")) if begin is None else None
    if engine is not None:
        begin = engine.begin

        @event.listens_for(engine, "connect")
        def _fast(connection: Any, _record: Any) -> None:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")

    assert begin is not None

    customers = max(1, conversations * 2 // 5)
    with begin() as db:
        db.execute(
            insert(table("teams")), [{"slug": s, "name": s.title()} for s in ("support", "billing")]
        )
        hashed = hash_password(PASSWORD)
        agents = [
            {
                "email": f"agent{n}@bench.example",
                "name": f"Agent {n}",
                "role": "admin" if n == 0 else "agent",
                "password_hash": hashed,
                "capacity": 100_000,
                "open_count": 0,
                "presence": "online",
                "skills": [],
                "active": True,
                "created_at": now,
            }
            for n in range(40)
        ]
        db.execute(insert(table("agents")), agents)
        db.execute(
            insert(table("agent_teams")),
            [{"agent_id": n + 1, "team_id": 1 + (n % 2)} for n in range(1, 40)],
        )
        rows = []
        for n in range(customers):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            rows.append(
                {
                    "name": name,
                    "name_key": name.lower(),
                    "company": f"Company {n % 997}",
                    "tier": "standard",
                    "tags": [],
                    "attributes": {},
                    "locale": "en",
                    "timezone": "UTC",
                    "consent": {},
                    "notes": "",
                    "created_at": now,
                }
            )
        for start in range(0, len(rows), BATCH):
            db.execute(insert(table("customers")), rows[start : start + BATCH])
        db.execute(
            insert(table("identities")),
            [
                {
                    "customer_id": n + 1,
                    "kind": "email",
                    "address": f"c{n}@customer.example",
                    "display_name": "",
                    "bouncing": False,
                    "created_at": now,
                }
                for n in range(customers)
            ],
        )
    started = time.monotonic()
    conversation_rows: list[dict[str, Any]] = []
    ticket_rows: list[dict[str, Any]] = []
    for n in range(conversations):
        created = now - timedelta(minutes=rng.randrange(90 * 24 * 60))
        last = created + timedelta(minutes=rng.randrange(60 * 24))
        status = rng.choice(STATUSES)
        priority = rng.choice(PRIORITIES)
        team = 1 + (n % 2)
        assignee = rng.choice([None, *range(2 + (team - 1), 41, 2)]) if rng.random() < 0.8 else None
        conversation_rows.append(
            {
                "token": f"{n:016x}",
                "customer_id": 1 + rng.randrange(customers),
                "identity_id": None,
                "channel": rng.choice(CHANNELS),
                "subject": sentence(rng, 5)[:80],
                "status": status,
                "priority": priority,
                "team_id": team,
                "assignee_id": assignee,
                "created_at": created,
                "first_inbound_at": created,
                "last_inbound_at": last,
                "last_activity_at": last,
                "first_response_at": None if status == "open" else last,
                "resolved_at": last if status == "resolved" else None,
            }
        )
        first_due = created + timedelta(hours=rng.choice([1, 8, 24]))
        resolution_due = created + timedelta(days=3)
        conversation_rows[-1]["sla_due_at"] = (
            None
            if status != "open"
            else first_due
            if conversation_rows[-1]["first_response_at"] is None
            else resolution_due
        )
        ticket_rows.append(
            {
                "number": 1000 + n,
                "conversation_id": n + 1,
                "subject": "",
                "status": "open",
                "priority": priority,
                "category": "",
                "first_response_due_at": first_due,
                "resolution_due_at": resolution_due,
                "created_at": created,
                "updated_at": last,
            }
        )
    with begin() as db:
        for start in range(0, conversations, BATCH):
            db.execute(insert(table("conversations")), conversation_rows[start : start + BATCH])
            db.execute(insert(table("tickets")), ticket_rows[start : start + BATCH])
    directions = ["inbound", "outbound", "inbound", "note", "outbound", "event"]
    buffer: list[dict[str, Any]] = []
    total = 0
    with begin() as db:
        for n, conversation in enumerate(conversation_rows):
            moment = conversation["created_at"]
            for k in range(messages_per):
                direction = directions[k % len(directions)] if k else "inbound"
                moment = moment + timedelta(minutes=rng.randrange(1, 120))
                buffer.append(
                    {
                        "conversation_id": n + 1,
                        "customer_id": conversation["customer_id"],
                        "direction": direction,
                        "channel": conversation["channel"],
                        "author_agent_id": conversation["assignee_id"]
                        if direction != "inbound"
                        else None,
                        "subject": conversation["subject"] if k == 0 else "",
                        "text": sentence(rng, rng.randrange(6, 40)),
                        "attachments": [],
                        "raw": {},
                        "automated": False,
                        "delivery_state": "sent" if direction == "outbound" else "received",
                        "created_at": moment,
                    }
                )
            if len(buffer) >= BATCH:
                db.execute(insert(table("messages")), buffer)
                total += len(buffer)
                buffer = []
        if buffer:
            db.execute(insert(table("messages")), buffer)
            total += len(buffer)
    if engine is not None:
        engine.dispose()
    return {"customers": customers, "messages": total, "load_seconds": time.monotonic() - started}


async def sign_in(http: aiohttp.ClientSession, email: str) -> None:
    page = await (await http.get("/ui/login")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = await http.post(
        "/ui/login",
        data={"csrf_token": token.group(1), "email": email, "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()


async def next_page(http: aiohttp.ClientSession, query: str) -> str:
    page = await (await http.get(f"/ui/inbox?{query}")).text()
    found = re.search(r'href="(/ui/inbox\?[^"]*after=[^"]+)" data-next', page)
    assert found is not None, "no second page"
    return found.group(1).replace("&amp;", "&")


async def timed(http: aiohttp.ClientSession, paths: list[str]) -> list[float]:
    spent = []
    for path in paths:
        started = time.perf_counter()
        response = await http.get(path)
        await response.read()
        spent.append((time.perf_counter() - started) * 1000)
        assert response.status == 200, (path, response.status)
    return spent


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "max_ms": round(ordered[-1], 1),
    }


def settings_for(url: str, smtp_port: int | None = None) -> Settings:
    """The example config on ``url`` (already migrated), with no fixed ports taken; mail goes
    to the server on ``smtp_port`` when one is given."""
    overrides: dict[str, object] = {
        "database.url": url,
        "database.auto_migrate": False,
        "capture.enabled": False,
        "channels.mail.inbound_smtp": "127.0.0.1:0",  # never a fixed port another hub holds
    }
    if smtp_port is not None:
        overrides["channels.mail.smtp_port"] = smtp_port
    return load_settings(ROOT / "config" / "relaydesk.toml", environ={}, overrides=overrides)


@contextlib.asynccontextmanager
async def watch_events(
    http: aiohttp.ClientSession, kind: str = ""
) -> AsyncIterator[dict[int, float]]:
    """The live stream (/ui/events) read as a page reads it: conversation id -> when its first
    event (of ``kind``, any kind when empty) arrived (perf_counter)."""
    stream = await http.get("/ui/events", headers={"Accept": "text/event-stream"})
    assert stream.status == 200, stream.status
    seen: dict[int, float] = {}
    wanted = f'"kind": "{kind}"' if kind else ""

    async def follow() -> None:
        async for raw in stream.content:
            line = raw.decode().strip()
            if line.startswith("data:") and wanted in line:
                found = re.search(r'"conversation_id": (\d+)', line)
                if found is not None:
                    seen.setdefault(int(found.group(1)), time.perf_counter())

    reader = asyncio.create_task(follow())
    try:
        yield seen
    finally:
        reader.cancel()
        stream.close()


async def post_question(http: aiohttp.ClientSession, token: str, n: int) -> tuple[int, float]:
    """A new customer's message through the API channel: its conversation id and when it was
    posted (perf_counter)."""
    stamp = time.time_ns()
    posted = time.perf_counter()
    response = await http.post(
        "/api/v1/inbound/api",
        json={
            "external_id": f"live-{stamp}-{n}",
            "from": {"address": f"live{stamp}-{n}@bench.example", "name": f"Live {n}"},
            "text": "Is anyone there?",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    body = await response.json()
    assert response.status == 201, body
    return int(body["conversation_id"]), posted


async def seen_within(seen: dict[int, float], conversation: int, seconds: float = 10) -> float:
    async with asyncio.timeout(seconds):
        while conversation not in seen:
            await asyncio.sleep(0.002)
    return seen[conversation]


async def live_latency(http: aiohttp.ClientSession, token: str, samples: int) -> list[float]:
    """Milliseconds from posting an API-channel message to its event on an open inbox's
    server-sent event stream (the event usually arrives before the poster has read its 201):
    the "appears within a second" figure, ingest included."""
    spent = []
    async with watch_events(http) as seen:
        for n in range(samples):
            conversation, posted = await post_question(http, token, n)
            spent.append((await seen_within(seen, conversation) - posted) * 1000)
    return spent


async def measure(
    url: str, conversations: int, requests: int, seed: int, smtp_port: int
) -> dict[str, Any]:
    settings = settings_for(url, smtp_port)
    rng = random.Random(seed + 1)
    server = TestServer(create_app(settings, long_running=True), host="127.0.0.1")
    await server.start_server()
    results: dict[str, Any] = {}
    try:
        base = str(server.make_url("/"))
        async with (
            aiohttp.ClientSession(
                base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True)
            ) as admin,
            aiohttp.ClientSession(
                base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True)
            ) as agent,
        ):
            await sign_in(admin, "agent0@bench.example")
            await sign_in(agent, "agent2@bench.example")
            await timed(admin, ["/ui/inbox"] * 5 + ["/ui/conversations/1"] * 5)  # warm up
            scenarios: dict[str, tuple[aiohttp.ClientSession, list[str]]] = {}
            views = {"all": admin, "mine": agent, "teams": agent, "unassigned": agent}
            for view, http in views.items():
                for sort in ("waiting", "recent", "sla"):
                    label = f"inbox: {view}, open, {sort}"
                    scenarios[label] = (http, [f"/ui/inbox?view={view}&sort={sort}"])
            scenarios |= {
                "inbox: all, all statuses, sla": (
                    admin,
                    ["/ui/inbox?view=all&status=all&sort=sla"],
                ),
                "inbox: all, sla=breached, sla": (
                    admin,
                    ["/ui/inbox?view=all&sla=breached&sort=sla"],
                ),
                "inbox: all, sla=due_soon, waiting": (admin, ["/ui/inbox?view=all&sla=due_soon"]),
                "inbox: teams, sla=on_track, sla": (
                    agent,
                    ["/ui/inbox?view=teams&sla=on_track&sort=sla"],
                ),
                "inbox: all, sla, page 2": (admin, [await next_page(admin, "view=all&sort=sla")]),
                "inbox: all, urgent, mail channel": (
                    admin,
                    ["/ui/inbox?view=all&priority=urgent&channel=mail"],
                ),
                "inbox rows fragment (live refresh)": (admin, ["/ui/inbox/rows?view=all"]),
                "conversation page (random)": (
                    admin,
                    [
                        f"/ui/conversations/{1 + rng.randrange(conversations)}"
                        for _ in range(requests)
                    ],
                ),
                "inbox search: one common word": (admin, ["/ui/inbox?view=all&q=refund"]),
                "search page, ranked with snippets: one common word": (
                    admin,
                    ["/ui/search?q=refund"],
                ),
                "search page: two words": (admin, ["/ui/search?q=refund+order"]),
                "search page: a word no message has": (admin, ["/ui/search?q=zebra"]),
                "inbox search: a customer's first name": (admin, ["/ui/inbox?view=all&q=jane"]),
            }
            for label, (http, paths) in scenarios.items():
                if len(paths) == 1:
                    paths = paths * requests
                if "search" in label:
                    paths = paths[: max(20, requests // 10)]
                results[label] = summary(await timed(http, paths))
            live = await live_latency(admin, API_TOKEN, max(20, requests // 5))
            results["live: message posted -> event on an open inbox stream"] = summary(live)
    finally:
        await server.close()
    return results


def explain(path: Path, runs: int) -> dict[str, Any]:
    """The inbox's first-page queries straight on the file (no HTTP, no rendering): the plan
    SQLite picks and the query time, per view, sort and SLA filter. A sort that walks an index
    shows no "TEMP B-TREE FOR ORDER BY"."""
    now = datetime.now(UTC)
    admin = Principal(1, Role.ADMIN, frozenset())
    agent = Principal(3, Role.AGENT, frozenset({2}))  # agent2@bench.example, team billing
    cases: list[tuple[str, InboxFilter, Principal]] = []
    for view, who in (("all", admin), ("mine", agent), ("teams", agent), ("unassigned", agent)):
        for sort in ("waiting", "recent", "sla"):
            cases.append((f"{view}, open, {sort}", InboxFilter(view=view, sort=sort), who))
    cases += [
        ("all, all statuses, sla", InboxFilter(view="all", status="all", sort="sla"), admin),
        ("all, sla=breached, sla", InboxFilter(view="all", sla="breached", sort="sla"), admin),
        ("all, sla=due_soon, waiting", InboxFilter(view="all", sla="due_soon"), admin),
        ("teams, sla=on_track, sla", InboxFilter(view="teams", sla="on_track", sort="sla"), agent),
    ]
    phases = {"waiting": "w", "recent": "r", "sla": "s"}
    results: dict[str, Any] = {}
    db = sqlite3.connect(path)
    try:
        for label, inbox, who in cases:
            query = _phase_query(base_query(inbox, who, now), phases[inbox.sort], None).limit(
                PAGE_SIZE + 1
            )
            sql = str(
                query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
            )
            plan = " | ".join(str(row[3]) for row in db.execute("EXPLAIN QUERY PLAN " + sql))
            spent = []
            for _ in range(runs):
                started = time.perf_counter()
                db.execute(sql).fetchall()
                spent.append((time.perf_counter() - started) * 1000)
            results[label] = {**summary(spent), "plan": plan}
    finally:
        db.close()
    return results


def sqlite_database(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The SQLite file's URL, loaded (or reused after migrating)."""
    path = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix="rd-inbox-")) / "bench.db"
    url = f"sqlite+aiosqlite:///{path}"
    loaded: dict[str, Any] = {"reused": True}
    if path.exists():  # a file loaded earlier: bring its schema up to date (backfills run here)
        started = time.monotonic()
        upgrade(url)
        loaded["upgrade_seconds"] = round(time.monotonic() - started, 1)
        print(f"reusing {path}; schema upgraded in {loaded['upgrade_seconds']} s")
    else:
        upgrade(url)
        total = args.conversations * args.messages_per
        print(f"loading {args.conversations} conversations, {total} messages into {path}")
        loaded = load(url, args.conversations, args.messages_per, args.seed)
        print(f"  loaded in {loaded['load_seconds']:.0f} s")
    with sqlite3.connect(path) as db:  # the loader numbered tickets itself: move the counter on
        db.execute(
            "INSERT OR REPLACE INTO counters (name, value)"
            " SELECT 'ticket', coalesce(max(number), 999) FROM tickets"
        )
    return url, loaded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", help="SQLite file to use (a loaded one is reused)")
    parser.add_argument(
        "--explain", action="store_true", help="only the inbox queries: plans and DB time"
    )
    parser.add_argument(
        "--database-url", help="a PostgreSQL database instead of SQLite (loaded once, reused)"
    )
    args = parser.parse_args()
    if args.database_url:
        url = args.database_url.replace("postgresql://", "postgresql+asyncpg://")
        upgrade(url)
        loaded: dict[str, Any] = {"reused": True}
        if asyncio.run(loaded_postgres(url)):
            print(f"reusing {args.database_url}")
        else:
            print(f"loading {args.conversations} conversations into {args.database_url}")
            started = time.monotonic()
            asyncio.run(load_postgres(url, args.conversations, args.messages_per, args.seed))
            loaded = {"load_seconds": round(time.monotonic() - started, 1)}
            print(f"  loaded in {loaded['load_seconds']:.0f} s")
    else:
        url, loaded = sqlite_database(args)
    if args.explain:
        if args.database_url:
            parser.error("--explain reads a SQLite file")
        for label, found in explain(Path(url.split(":///", 1)[1]), args.requests).items():
            print(
                f"{label:28} p50 {found['p50_ms']:7} p95 {found['p95_ms']:7} ms | {found['plan']}"
            )
        return 0
    # The acknowledgements of the messages the bench posts go to a mail server of their own
    # (else the outbox retries them, failing, while the pages are timed).
    port = free_port()
    sink = multiprocessing.Process(
        target=serve_sink, args=(port, multiprocessing.Value("i", 0)), daemon=True
    )
    sink.start()
    try:
        results = asyncio.run(measure(url, args.conversations, args.requests, args.seed, port))
    finally:
        sink.terminate()
    width = max(len(label) for label in results)
    print(f"\n{'page':<{width}}  {'p50':>7}  {'p95':>7}  {'max':>7}   (ms, {args.requests} each)")
    for label, figures in results.items():
        p50, p95, top = figures["p50_ms"], figures["p95_ms"], figures["max_ms"]
        print(f"{label:<{width}}  {p50:>7}  {p95:>7}  {top:>7}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "store": "postgresql" if args.database_url else "sqlite",
        "conversations": args.conversations,
        "messages_per": args.messages_per,
        "load": loaded,
        "results": results,
    }
    (out / "inbox.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

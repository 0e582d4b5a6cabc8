"""Chaos scenarios, shared by the chaos tests (small) and bench/chaos.py (more load, longer).

Each scenario runs ``relaydesk serve`` as a child process on 127.0.0.1, posts API-channel
messages at it from many concurrent clients that behave like a provider (a message is retried
until it gets a 2xx), breaks something under that load (the hub killed with SIGKILL, the SMTP
relay gone, PostgreSQL restarted), and then counts from the database and the mail server:
every acknowledged message stored once, every queued mail delivered, how many mails went twice,
how many messages or mails were late, and how long the hub took to serve again. The moving
parts (the hub process, the relay, the load) are in tests/support/served_hub.py."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from hub.db.models import Message, OutboxItem, OutboxState
from hub.db.routing_models import Job
from hub.platform.database import open_database
from tests.support.pg_cluster import Cluster
from tests.support.served_hub import HubProcess, Load, Relay

GRACE = timedelta(seconds=5)  # a job due longer ago than this at the end counts as overdue


@dataclass
class Tally:
    """What one scenario ends with."""

    scenario: str
    sent: int = 0  # distinct messages the clients posted
    acknowledged: int = 0  # distinct messages answered 2xx
    lost: int = 0  # acknowledged but not in the database
    duplicated: int = 0  # stored more than once
    delayed: int = 0  # messages acknowledged only on a retry (their first post was refused)
    answers: Counter[int] = field(default_factory=Counter)  # every HTTP status the clients saw
    refused: int = 0  # attempts that found no server (connection refused or cut)
    mails_queued: int = 0
    mails_sent: int = 0  # outbox rows in state sent
    mails_received: int = 0  # distinct Message-IDs at the mail server
    mails_twice: int = 0  # extra copies at the mail server
    mails_retried: int = 0  # mails delivered only on a later attempt
    jobs_overdue: int = 0  # due jobs nobody ran by the end
    slowest_answer: float = 0.0  # seconds, the longest one post waited for its answer
    recover_seconds: float = 0.0  # from the fault's end to the hub serving (or mail flowing) again
    seconds: float = 0.0
    hub_exited: bool = False  # the hub process ended by itself (it must not)
    ready_while_down: int = 0  # what /readyz answered while the database was down
    slow_stop: bool = False  # SIGTERM at the end took longer than the stop grace (then SIGKILL)


async def settle(
    tally: Tally, database_url: str, relay: Relay, load: Load, timeout: float = 90.0
) -> None:
    """Count: messages stored, outbox delivered (waiting for the queue to drain), mail at the
    relay, jobs overdue."""
    db = open_database(database_url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            async with db.reader() as session:
                states = Counter(await session.scalars(select(OutboxItem.state)))
                retried = await session.scalar(
                    select(func.count()).select_from(OutboxItem).where(OutboxItem.attempts > 1)
                )
            queued = sum(states.values())
            distinct = len({mail.message["Message-ID"] for mail in relay.received})
            done = states.get(OutboxState.SENT, 0) == queued and distinct >= queued
            if done or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        async with db.reader() as session:
            stored = Counter(
                await session.scalars(select(Message.external_id).where(Message.channel == "api"))
            )
            jobs = await session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.state == "pending", Job.next_attempt_at < datetime.now(UTC) - GRACE)
            )
    finally:
        await db.dispose()
    ids = Counter(mail.message["Message-ID"] for mail in relay.received)
    tally.sent = load.count
    tally.acknowledged = len(load.acked)
    tally.lost = sum(1 for key in load.acked if stored[key] == 0)
    tally.duplicated = sum(n - 1 for n in stored.values() if n > 1)
    tally.delayed += sum(1 for first in load.acked.values() if not first)
    tally.answers = load.answers
    tally.refused = load.refused
    tally.slowest_answer = load.slowest
    tally.mails_queued = queued
    tally.mails_sent = states.get(OutboxState.SENT, 0)
    tally.mails_received = len(ids)
    tally.mails_twice = sum(n - 1 for n in ids.values())
    tally.mails_retried = int(retried or 0)
    tally.jobs_overdue = int(jobs or 0)


@dataclass(frozen=True)
class Scale:
    """How much load: ``messages`` from ``customers`` (each new customer's first message queues
    one acknowledgement mail), ``concurrency`` clients; ``faults``: kills or restarts;
    ``down_seconds``: how long the relay or PostgreSQL stays down."""

    messages: int = 300
    customers: int = 60
    concurrency: int = 16
    faults: int = 1
    down_seconds: float = 2.0
    stop_grace: float = 10.0  # SIGTERM at the end, SIGKILL after this (all is counted by then)
    hub_env: Mapping[str, str] = field(
        default_factory=lambda: {
            "outbox__lease_seconds": "2",
            "outbox__poll_seconds": "0.2",
            "outbox__base_delay_seconds": "0.2",
            "outbox__max_delay_seconds": "1",
            "outbox__max_attempts": "100",
        }
    )


async def _running(
    name: str, database_url: str, workdir: Path, scale: Scale
) -> tuple[Relay, HubProcess, Load, Tally]:
    relay = Relay()
    await relay.start()
    hub = HubProcess(database_url, relay.port, workdir, **scale.hub_env)
    hub.start()
    await hub.wait_ready()
    load = Load(hub.base, name, scale.messages, scale.customers, scale.concurrency)
    return relay, hub, load, Tally(name)


async def _fault_points(load: Load, scale: Scale, fault: Callable[[int], Any]) -> None:
    """Run ``fault(i)`` when the i-th share of the messages has been acknowledged."""
    for i in range(scale.faults):
        await load.until_acked(
            scale.messages * (i + 1) // (scale.faults + 2), timeout=scale.messages * 0.5 + 60
        )
        await fault(i)


async def _faults_under_load(
    name: str,
    database_url: str,
    workdir: Path,
    scale: Scale,
    fault: Callable[[HubProcess, Tally], Awaitable[float]],
) -> Tally:
    """The load against a served hub, ``fault`` done at each fault point (it returns the moment
    the hub may serve again), then the count. ``recover_seconds``: the longest wait from that
    moment to the next 2xx."""
    began = time.monotonic()
    relay, hub, load, tally = await _running(name, database_url, workdir, scale)
    recoveries: list[float] = []

    async def each(_i: int) -> None:
        since = await fault(hub, tally)
        before = load.last_ack
        while load.last_ack <= before:
            await asyncio.sleep(0.01)
        recoveries.append(load.last_ack - since)

    try:
        running = asyncio.create_task(load.run(scale.messages * 0.5 + 60))
        await _fault_points(load, scale, each)
        await running
        await settle(tally, database_url, relay, load)
        tally.hub_exited = hub.process is None or hub.process.poll() is not None
    finally:
        tally.slow_stop = not await hub.stop(scale.stop_grace)
        await relay.stop()
    tally.recover_seconds = max(recoveries, default=0.0)
    tally.seconds = time.monotonic() - began
    return tally


async def kill_during_ingest(
    name: str, database_url: str, workdir: Path, scale: Scale = Scale()
) -> Tally:
    """``serve`` killed with SIGKILL under concurrent load, started again at once;
    ``recover_seconds`` runs from the kill."""

    async def kill(hub: HubProcess, _tally: Tally) -> float:
        hub.kill()
        killed = time.monotonic()
        hub.start()
        await hub.wait_ready()
        return killed

    return await _faults_under_load(name, database_url, workdir, scale, kill)


async def relay_outage(
    name: str, base: str, database_url: str, relay: Relay, scale: Scale = Scale()
) -> Tally:
    """Against the hub serving at ``base`` and sending its mail to ``relay``: the relay refuses
    connections while messages (and so acknowledgement mails) arrive, until every customer's
    first message is in and ``down_seconds`` more, then comes back on the same port.
    ``recover_seconds``: from its return to the last mail sent."""
    began = time.monotonic()
    load, tally = Load(base, name, scale.messages, scale.customers, scale.concurrency), Tally(name)
    await relay.stop()
    running = asyncio.create_task(load.run(scale.messages * 0.5 + 60))
    # Down until every customer's first message (each queues a mail) is in, and a while more.
    await load.until_acked(min(scale.customers, scale.messages), timeout=scale.messages * 0.5 + 60)
    await asyncio.sleep(scale.down_seconds)
    await relay.start()
    back = time.monotonic()
    await running
    await settle(tally, database_url, relay, load)
    tally.recover_seconds = time.monotonic() - back
    tally.seconds = time.monotonic() - began
    return tally


async def relay_down(name: str, database_url: str, workdir: Path, scale: Scale = Scale()) -> Tally:
    """``relay_outage`` against ``relaydesk serve`` in a child process."""
    began = time.monotonic()
    relay, hub, _load, _tally = await _running(name, database_url, workdir, scale)
    try:
        tally = await relay_outage(name, hub.base, database_url, relay, scale)
        tally.hub_exited = hub.process is None or hub.process.poll() is not None
    finally:
        stopped = await hub.stop(scale.stop_grace)
        await relay.stop()
    tally.slow_stop = not stopped
    tally.seconds = time.monotonic() - began
    return tally


async def postgres_restart(
    name: str, cluster: Cluster, workdir: Path, scale: Scale = Scale()
) -> Tally:
    """PostgreSQL (the cluster under the hub) stopped for ``down_seconds`` and started again
    under concurrent load; the hub is not restarted. ``recover_seconds`` runs from PostgreSQL's
    return."""

    async def restart(hub: HubProcess, tally: Tally) -> float:
        await asyncio.to_thread(cluster.stop, "fast")
        down = time.monotonic()
        async with aiohttp.ClientSession() as session, session.get(f"{hub.base}/readyz") as answer:
            tally.ready_while_down = answer.status
        await asyncio.sleep(scale.down_seconds - (time.monotonic() - down))
        await asyncio.to_thread(cluster.start)
        return time.monotonic()

    return await _faults_under_load(name, cluster.url, workdir, scale, restart)


def table(tallies: list[Tally]) -> str:
    """One line per scenario."""
    head = (
        f"{'scenario':28s} {'acked':>6s} {'lost':>5s} {'dup':>4s} {'delayed':>7s} "
        f"{'5xx':>5s} {'mails':>9s} {'retried':>7s} {'twice':>5s} {'recover s':>9s} "
        f"{'took s':>7s}"
    )
    rows = [head]
    for t in tallies:
        errors = sum(n for status, n in t.answers.items() if status >= 500)
        mails = f"{t.mails_received}/{t.mails_queued}"
        rows.append(
            f"{t.scenario:28s} {t.acknowledged:6d} {t.lost:5d} {t.duplicated:4d} {t.delayed:7d} "
            f"{errors:5d} {mails:>9s} {t.mails_retried:7d} {t.mails_twice:5d} "
            f"{t.recover_seconds:9.1f} "
            f"{t.seconds:7.1f}"
        )
    return "\n".join(rows)

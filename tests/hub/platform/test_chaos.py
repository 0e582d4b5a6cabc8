"""Chaos under load (127.0.0.1 only, bounded): ``relaydesk serve`` killed with SIGKILL while
providers post at it (SQLite and PostgreSQL), the SMTP relay gone for a while, PostgreSQL
restarted under the serving hub. Each ends with every acknowledged message stored once, every
queued mail delivered, and the hub serving again without being restarted (beyond the kill).
The same scenarios, with more load and longer, are ``python -m bench.chaos``."""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub.db.models import OutboxItem, OutboxState
from hub.platform.migrate import upgrade
from tests.conftest import emptied, make_settings
from tests.support import pg_cluster
from tests.support.chaos import (
    Scale,
    Tally,
    kill_during_ingest,
    postgres_restart,
    relay_outage,
    table,
)
from tests.support.desk import AiohttpClient, MakeDesk, open_desk
from tests.support.messages import inbound
from tests.support.recorder import HttpRecorder
from tests.support.served_hub import Relay
from tests.support.smtp import SmtpSink

SCALE = Scale(messages=240, customers=40, concurrency=16, stop_grace=15.0)
OUTBOX_CONCURRENCY = 8  # the default: at most this many mails are in flight at a kill


@pytest.fixture(scope="module")
def cluster() -> Iterator[pg_cluster.Cluster]:
    """A PostgreSQL of the test's own, migrated, that it may stop and start."""
    if not pg_cluster.available():
        pytest.skip(f"PostgreSQL server binaries not found in {pg_cluster.BIN}")
    server = pg_cluster.Cluster()
    try:
        server.start()
        upgrade(server.url)
        yield server
    finally:
        server.destroy()


def _sqlite(tmp_path: Path, template: Path) -> str:
    shutil.copy(template, tmp_path / "relaydesk.db")
    return f"sqlite+aiosqlite:///{tmp_path / 'relaydesk.db'}"


def assert_nothing_lost(tally: Tally, *, mails_twice_at_most: int = 0) -> None:
    """Every message posted was acknowledged, every acknowledged one stored once; every
    acknowledgement mail delivered; refusals were 503 or no server, never a 500."""
    print(table([tally]))  # shown with pytest -s, or when the test fails
    assert tally.acknowledged == tally.sent == SCALE.messages
    assert (tally.lost, tally.duplicated) == (0, 0)
    assert set(tally.answers) <= {200, 201, 503}, tally.answers
    assert tally.mails_queued == SCALE.customers  # one acknowledgement per new conversation
    assert tally.mails_sent == tally.mails_received == tally.mails_queued
    assert tally.mails_twice <= mails_twice_at_most
    assert tally.jobs_overdue == 0
    assert not tally.hub_exited
    assert not tally.slow_stop  # and SIGTERM at the end stops it cleanly


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_serve_killed_with_sigkill_under_load_loses_and_repeats_no_message(
    backend: str, tmp_path: Path, sqlite_template: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = _sqlite(tmp_path, sqlite_template)
    else:
        url = await emptied(request.getfixturevalue("cluster").url)
    tally = await kill_during_ingest(f"kill-{backend}", url, tmp_path, SCALE)
    assert tally.refused > 0, "the kill found no request in flight or waiting"
    # Only mails whose SMTP transaction was in flight at the kill may go twice.
    assert_nothing_lost(tally, mails_twice_at_most=OUTBOX_CONCURRENCY * SCALE.faults)


async def test_the_smtp_relay_down_for_a_while_then_back_gets_every_mail_once(
    make_desk: MakeDesk, database_url: str
) -> None:
    """The hub in this process (the relay's outage is the fault, not the hub's start)."""
    relay = Relay()
    await relay.start()
    try:
        overrides = {key.replace("__", "."): value for key, value in SCALE.hub_env.items()}
        desk = await make_desk(**{"channels.mail.smtp_port": relay.port, **overrides})
        base = str(desk.client.make_url("")).rstrip("/")
        tally = await relay_outage("relay-down", base, database_url, relay, SCALE)
    finally:
        await relay.stop()
    assert tally.mails_retried > 0, "no mail was waiting while the relay was down"
    assert_nothing_lost(tally)


async def test_postgresql_restarted_under_the_serving_hub_answers_503_then_serves_again(
    tmp_path: Path, cluster: pg_cluster.Cluster
) -> None:
    url = await emptied(cluster.url)
    tally = await postgres_restart("pg-restart", cluster, tmp_path, SCALE)
    assert url == cluster.url
    assert tally.answers[503] + tally.refused > 0, "no request met the database down"
    assert tally.ready_while_down == 503
    assert_nothing_lost(tally)


@dataclass
class SlowRelay(SmtpSink):
    """A relay that takes ``seconds`` over each message and says when ``expected`` of them
    are in its hands at once."""

    seconds: float = 1.0
    expected: int = 3
    in_hand: int = 0
    began: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.in_hand += 1
        if self.in_hand >= self.expected:
            self.began.set()
        await asyncio.sleep(self.seconds)
        return await super().handle_DATA(server, session, envelope)


async def test_mails_handed_over_while_postgresql_restarts_are_recorded_sent_not_sent_again(
    cluster: pg_cluster.Cluster,
    aiohttp_client: AiohttpClient,
    callback_server: HttpRecorder,
) -> None:
    """The relay accepts three acknowledgements while PostgreSQL is down: the dispatcher waits
    for it to come back and writes them sent, so nothing is sent again after the lease."""
    relay = SlowRelay()
    await relay.start()
    try:
        settings = make_settings(
            await emptied(cluster.url), **{"channels.mail.smtp_port": relay.port}
        )
        desk = await open_desk(aiohttp_client, settings, relay, callback_server, workers=False)
        for n in range(3):
            await desk.ingest(inbound(f"restart-{n}", address=f"customer{n}@example.com"))
        passing = asyncio.create_task(desk.hub.dispatcher.run_once())
        # All three handed over before PostgreSQL stops: none is still being read from it.
        await asyncio.wait_for(relay.began.wait(), timeout=30)
        await asyncio.to_thread(cluster.stop, "fast")
        await asyncio.sleep(relay.seconds + 0.5)  # the relay answers while PostgreSQL is down
        await asyncio.to_thread(cluster.start)
        assert await passing == 3
        assert await desk.hub.dispatcher.run_once() == 0
        async with desk.db.reader() as session:
            states = Counter(await session.scalars(select(OutboxItem.state)))
        assert states == {OutboxState.SENT: 3}
        ids = Counter(mail.message["Message-ID"] for mail in relay.received)
        assert sorted(ids.values()) == [1, 1, 1]
    finally:
        await relay.stop()

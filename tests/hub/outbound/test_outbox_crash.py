"""The outbox after a crash: a dispatcher killed in the middle of a pass (some mails sent and
recorded, one sent but not yet recorded, the rest claimed but not started) leaves leases of at
most 30 s; after them a restarted dispatcher sends every queued mail, and only the one whose
SMTP transaction was in flight at the kill goes twice, with the same Message-ID."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub.db.models import OutboxItem, OutboxState
from hub.outbound.outbox import LEASE_SECONDS, Dispatcher
from hub.platform.clock import ManualClock
from tests.conftest import ROOT
from tests.support.desk import MakeDesk
from tests.support.messages import inbound
from tests.support.smtp import SmtpSink

MAILS = 12


async def test_a_dispatcher_killed_mid_pass_loses_nothing_and_repeats_one_at_most(
    make_desk: MakeDesk, smtp_sink: SmtpSink
) -> None:
    assert LEASE_SECONDS <= 30
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    desk = await make_desk(clock, workers=False)
    hub = desk.hub
    for n in range(MAILS):  # each new conversation queues an acknowledgement by mail
        await desk.ingest(inbound(f"crash-{n}", address=f"customer{n}@example.com"))
    async with hub.db.reader() as session:
        queued = list(await session.scalars(select(OutboxItem.id)))
    assert len(queued) == MAILS

    # The pass that dies: all claimed; four sent and recorded; the fifth sent over SMTP but
    # killed before its outcome was written; the other seven never started.
    dead = Dispatcher(hub.db, hub.channels, hub.settings.outbox, hub.clock)
    claims = await dead.queue.claim()
    assert len(claims) == MAILS
    await dead.queue.run_claims(dead, claims[:4])
    in_flight = await dead.prepare(claims[4])
    assert in_flight.ok
    await smtp_sink.wait_for(5)

    # The restarted process: nothing is due while the dead worker's leases hold...
    restarted = Dispatcher(hub.db, hub.channels, hub.settings.outbox, hub.clock)
    assert await restarted.run_once() == 0
    # ...and everything is sent once they ran out, within half a minute.
    clock.advance(timedelta(seconds=LEASE_SECONDS + 1))
    assert await restarted.run_once() == MAILS - 4
    received = await smtp_sink.wait_for(MAILS + 1)
    async with hub.db.reader() as session:
        states = Counter(await session.scalars(select(OutboxItem.state)))
    assert states == {OutboxState.SENT: MAILS}
    ids = Counter(mail.message["Message-ID"] for mail in received)
    assert len(ids) == MAILS
    twice = [mid for mid, n in ids.items() if n > 1]
    assert twice == [received[4].message["Message-ID"]]  # the one in flight at the kill
    assert ids[twice[0]] == 2


@dataclass
class SlowSink(SmtpSink):
    """A mail server that takes a while over each message, so a pass is long enough to kill."""

    seconds: float = 0.4

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.seconds)
        return await super().handle_DATA(server, session, envelope)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_kill_9_of_the_serving_hub_mid_pass_then_a_restart_sends_every_mail(
    make_desk: MakeDesk, database_url: str, tmp_path: Path
) -> None:
    """The hub process (``relaydesk serve``) is killed with SIGKILL while its dispatcher works
    through the queued mails one by one; the hub started again sends the rest."""
    if not database_url.startswith("sqlite"):
        pytest.skip("one database file shared with a child process: the SQLite variant")
    sink = SlowSink()
    await sink.start()
    try:
        overrides = {
            "channels.mail.smtp_port": sink.port,
            "outbox.concurrency": 1,
            "outbox.lease_seconds": 1.0,
        }
        seeding = await make_desk(workers=False, **overrides)
        for n in range(MAILS):
            await seeding.ingest(inbound(f"kill-{n}", address=f"customer{n}@example.com"))
        env = {
            **os.environ,
            "RELAYDESK_DATABASE_URL": database_url,
            "RELAYDESK_DATABASE__AUTO_MIGRATE": "false",
            "RELAYDESK_CAPTURE__ENABLED": "false",
            "RELAYDESK_CHANNELS__MAIL__SMTP_PORT": str(sink.port),
            "RELAYDESK_CHANNELS__MAIL__INBOUND_SMTP": "127.0.0.1:0",
            "RELAYDESK_OUTBOX__CONCURRENCY": "1",
            "RELAYDESK_OUTBOX__LEASE_SECONDS": "1",
        }
        child = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "serve", "--port", str(_free_port())],
            env=env,
            cwd=str(ROOT),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await sink.wait_for(3, timeout=60)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
        killed_after = len(sink.received)
        assert killed_after < MAILS, "the pass ended before the kill"

        await asyncio.sleep(1.5)  # the dead process's leases run out
        hub = seeding.hub
        while await hub.dispatcher.run_once():
            pass
        received = await sink.wait_for(MAILS)
        async with hub.db.reader() as session:
            states = Counter(await session.scalars(select(OutboxItem.state)))
        assert states == {OutboxState.SENT: MAILS}
        ids = Counter(mail.message["Message-ID"] for mail in received)
        assert len(ids) == MAILS
        assert sum(n - 1 for n in ids.values()) <= 1  # only the one in flight at the kill
    finally:
        await sink.stop()

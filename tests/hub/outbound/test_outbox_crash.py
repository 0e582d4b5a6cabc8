"""The outbox after a crash: a dispatcher killed in the middle of a pass (some mails sent and
recorded, one sent but not yet recorded, the rest claimed but not started) leaves leases of at
most 30 s; after them a restarted dispatcher sends every queued mail, and only the one whose
SMTP transaction was in flight at the kill goes twice, with the same Message-ID."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hub.db.models import OutboxItem, OutboxState
from hub.outbound.outbox import LEASE_SECONDS, Dispatcher
from hub.platform.clock import ManualClock
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

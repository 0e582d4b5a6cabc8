"""The outbox: outbound mail is written with its cause, sent by the dispatcher over real SMTP,
retried with growing delays on temporary failures, and a final failure is shown on the message."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hub.config.settings import OutboxSettings
from hub.db.models import Direction, Message, OutboxItem
from hub.outbound.outbox import Dispatcher, backoff
from hub.platform.clock import ManualClock, aware
from tests.conftest import auth
from tests.support.desk import Desk, MakeDesk
from tests.support.forms import submit
from tests.support.messages import inbound
from tests.support.poll import eventually
from tests.support.smtp import SmtpSink

FORM = {"name": "Jane Cooper", "email": "jane@example.com", "message": "Help me, please."}


async def by_hand(make_desk: MakeDesk, **overrides: Any) -> Desk:
    """A desk with no worker running, on a clock that starts now: the test ingests, runs the
    dispatcher and moves the clock itself."""
    now = ManualClock(datetime.now(UTC).replace(microsecond=0))
    return await make_desk(now, workers=False, **overrides)


@pytest.fixture
async def idle(make_desk: MakeDesk) -> Desk:
    return await by_hand(make_desk)


async def outbound(hub_db: Any) -> tuple[Message, OutboxItem]:
    async with hub_db.reader() as session:
        message = await session.scalar(select(Message).where(Message.direction == "outbound"))
        assert message is not None
        item = await session.scalar(select(OutboxItem).where(OutboxItem.message_id == message.id))
        assert item is not None
    return message, item


async def wait_for_state(hub_db: Any, state: str) -> tuple[Message, OutboxItem]:
    async def reached() -> bool:
        async with hub_db.reader() as session:
            found = await session.scalar(
                select(Message.delivery_state).where(Message.direction == "outbound")
            )
        return found == state

    await eventually(reached, what=f"outbound message {state}")
    return await outbound(hub_db)


@pytest.mark.parametrize("stage", ["data", "rcpt"])
async def test_temporary_refusal_is_retried_then_sent(
    desk: Desk, smtp_sink: SmtpSink, stage: str
) -> None:
    if stage == "data":
        smtp_sink.reject_with = "451 4.3.0 Try again later"
    else:
        smtp_sink.reject_rcpt_with = "451 4.7.1 Greylisted, come back later"
    status, _ = await submit(desk.client, FORM)
    assert status == 200

    async def refused() -> bool:
        return smtp_sink.rejections >= 1

    await eventually(refused, what="first delivery refused")
    message, item = await outbound(desk.hub.db)
    assert message.delivery_state in ("queued", "sent")
    smtp_sink.reject_with = smtp_sink.reject_rcpt_with = None

    [mail] = await smtp_sink.wait_for(1)
    assert mail.rcpt_tos == ["jane@example.com"]
    message, item = await wait_for_state(desk.hub.db, "sent")
    assert message.delivery_error is None
    assert item.state == "sent"
    assert item.attempts == smtp_sink.rejections + 1 >= 2
    assert mail.message["Message-ID"] == message.external_id


@pytest.mark.parametrize("stage", ["data", "rcpt"])
async def test_permanent_refusal_fails_with_the_reason_on_the_message(
    desk: Desk, smtp_sink: SmtpSink, stage: str
) -> None:
    _, token = await desk.agent("alice@example.com")
    if stage == "data":
        smtp_sink.reject_with = "550 5.7.1 Message rejected as spam"
        reason = "5.7.1 Message rejected as spam"
    else:
        smtp_sink.reject_rcpt_with = "550 5.1.1 No such user here"
        reason = "5.1.1 No such user here"
    await submit(desk.client, FORM)
    message, item = await wait_for_state(desk.hub.db, "failed")
    assert item.state == "failed"
    assert item.attempts == 1  # a permanent refusal is not retried
    assert smtp_sink.rejections == 1
    assert message.delivery_error is not None
    assert "550" in message.delivery_error and reason in message.delivery_error
    assert "after 1 attempt" in message.delivery_error

    # An agent sees it on the message, through the API.
    response = await desk.client.get(
        f"/api/v1/conversations/{message.conversation_id}/messages", headers=auth(token)
    )
    [shown] = [m for m in (await response.json())["items"] if m["direction"] == "outbound"]
    assert shown["delivery_state"] == "failed"
    assert reason in shown["delivery_error"]
    assert smtp_sink.received == []


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    settings = OutboxSettings(base_delay_seconds=2, max_delay_seconds=60)
    for attempts, ceiling in [(1, 2), (2, 4), (3, 8), (4, 16), (5, 32), (6, 60), (12, 60)]:
        delays = [backoff(settings, attempts) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), attempts
        assert len(set(delays)) > 1  # jittered, so retries from many messages spread out


@pytest.fixture
async def slow(make_desk: MakeDesk) -> Desk:
    return await by_hand(
        make_desk,
        **{
            "outbox.base_delay_seconds": 10,
            "outbox.max_delay_seconds": 60,
            "outbox.max_attempts": 6,
        },
    )


async def test_delays_grow_until_the_message_fails(slow: Desk, smtp_sink: SmtpSink) -> None:
    smtp_sink.reject_with = "451 4.3.0 Mailbox busy"
    await slow.ingest(inbound("1"))
    dispatcher = slow.hub.dispatcher
    delays: list[float] = []
    for attempt in range(1, 6):
        assert await dispatcher.run_once() == 1
        message, item = await outbound(slow.db)
        assert item.state == "pending" and item.attempts == attempt
        assert message.delivery_state == "queued"
        assert message.delivery_error is not None
        assert "SMTP 451: 4.3.0 Mailbox busy" in message.delivery_error
        assert f"retry {attempt + 1} of 6" in message.delivery_error
        delay = (aware(item.next_attempt_at) - slow.clock.now()).total_seconds()
        delays.append(delay)
        # Not tried again before it is due ...
        slow.clock.advance(timedelta(seconds=delay - 1))
        assert await dispatcher.run_once() == 0
        # ... and tried once it is.
        slow.clock.advance(timedelta(seconds=1))
    # Doubling from 10 s (with up to half of it as jitter), capped at 60 s.
    for delay, ceiling in zip(delays, (10, 20, 40, 60, 60), strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert delays[:3] == sorted(delays[:3])
    assert await dispatcher.run_once() == 1
    message, item = await outbound(slow.db)
    assert (item.state, item.attempts, message.delivery_state) == ("failed", 6, "failed")
    assert message.delivery_error == "SMTP 451: 4.3.0 Mailbox busy (after 6 attempt(s))"
    slow.clock.advance(timedelta(hours=1))
    assert await dispatcher.run_once() == 0  # given up: nothing more is sent
    assert smtp_sink.rejections == 6


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_unreachable_server_is_a_temporary_failure(make_desk: MakeDesk) -> None:
    desk = await by_hand(make_desk, **{"channels.mail.smtp_port": closed_port()})
    await desk.ingest(inbound("1"))
    assert await desk.hub.dispatcher.run_once() == 1
    message, item = await outbound(desk.db)
    assert (item.state, item.attempts, message.delivery_state) == ("pending", 1, "queued")
    assert message.delivery_error is not None
    assert message.delivery_error.startswith("SMTP server unreachable")


async def test_every_outbound_message_has_its_outbox_row(idle: Desk) -> None:
    await idle.ingest(*(inbound(str(n), address=f"c{n}@example.com") for n in range(5)))
    async with idle.db.reader() as session:
        messages = set(
            (
                await session.scalars(
                    select(Message.id).where(Message.direction == Direction.OUTBOUND)
                )
            ).all()
        )
        queued = set((await session.scalars(select(OutboxItem.message_id))).all())
    assert len(messages) == 5
    assert queued == messages


async def test_failed_message_can_be_retried_by_an_agent(idle: Desk, smtp_sink: SmtpSink) -> None:
    smtp_sink.reject_with = "550 5.1.1 No such user"
    await idle.ingest(inbound("1"))
    dispatcher: Dispatcher = idle.hub.dispatcher
    await dispatcher.run_once()
    message, _ = await outbound(idle.db)
    assert message.delivery_state == "failed"
    smtp_sink.reject_with = None
    async with idle.db.writer() as session:
        assert await dispatcher.retry_now(session, message.id)
        await session.commit()
    assert await dispatcher.run_once() == 1
    [mail] = smtp_sink.received
    message, item = await outbound(idle.db)
    assert (message.delivery_state, message.delivery_error, item.state) == ("sent", None, "sent")
    assert mail.rcpt_tos == ["jane.cooper@example.com"]


async def test_stop_is_not_lost_when_a_wake_lands_at_the_same_moment(idle: Desk) -> None:
    """Shutdown must finish even if new work arrives as it begins (it used to hang forever)."""
    hub = idle.hub
    for _ in range(20):
        dispatcher = Dispatcher(hub.db, hub.channels, hub.settings.outbox, hub.clock)
        await dispatcher.worker.start()
        # Let it finish a pass and go idle: an empty pass is a claim query and a commit.
        await asyncio.sleep(idle.settings.outbox.poll_seconds / 2)
        dispatcher.wake()
        stopping = asyncio.ensure_future(dispatcher.worker.stop())
        done, _ = await asyncio.wait({stopping}, timeout=5)
        assert done, "Dispatcher.stop() hung"


@pytest.fixture
async def shipped(make_desk: MakeDesk) -> Desk:
    """The shipped retry budget (the tests' defaults shorten the first delay)."""
    defaults = OutboxSettings()
    return await by_hand(make_desk, **{"outbox.base_delay_seconds": defaults.base_delay_seconds})


async def _retry_until(desk: Desk, hours: float) -> int:
    """Run every due attempt while the relay refuses, for ``hours``; returns the attempts."""
    started = desk.clock.now()
    attempts = 0
    while desk.clock.now() - started < timedelta(hours=hours):
        attempts += await desk.hub.dispatcher.run_once()
        _, item = await outbound(desk.db)
        if item.state != "pending":
            break
        desk.clock.advance(aware(item.next_attempt_at) - desk.clock.now())
    return attempts


async def test_a_relay_down_for_four_hours_still_gets_the_mail_once(
    shipped: Desk, smtp_sink: SmtpSink
) -> None:
    smtp_sink.reject_with = "451 4.3.2 System not accepting network messages"
    await shipped.ingest(inbound("1"))
    tried = await _retry_until(shipped, hours=4)
    message, item = await outbound(shipped.db)
    assert item.state == "pending" and tried < 20
    assert f"retry {tried + 1} of 20" in (message.delivery_error or "")
    smtp_sink.reject_with = None
    shipped.clock.advance(aware(item.next_attempt_at) - shipped.clock.now())
    assert await shipped.hub.dispatcher.run_once() == 1
    message, item = await outbound(shipped.db)
    assert (item.state, message.delivery_state, message.delivery_error) == ("sent", "sent", None)
    assert len(smtp_sink.received) == 1


async def test_a_relay_down_all_day_fails_the_mail_for_the_agent_after_hours(
    shipped: Desk, smtp_sink: SmtpSink
) -> None:
    smtp_sink.reject_with = "451 4.3.2 System not accepting network messages"
    await shipped.ingest(inbound("1"))
    started = shipped.clock.now()
    assert await _retry_until(shipped, hours=24) == 20
    message, item = await outbound(shipped.db)
    assert (item.state, message.delivery_state) == ("failed", "failed")
    assert message.delivery_error == (
        "SMTP 451: 4.3.2 System not accepting network messages (after 20 attempt(s))"
    )
    assert timedelta(hours=4.5) < shipped.clock.now() - started < timedelta(hours=9.2)

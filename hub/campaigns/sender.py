"""The campaign sender: a Worker (started by the Supervisor, see hub/assembly.py) that delivers
the recipients of running campaigns exactly once.

Each round: the sweeps (claims.py), then each channel's batches side by side (about two seconds
of that channel's sends each, reserved by claims.claim). A chunk at a time, rows are committed
``sending`` (claims.mark_sending: only while the campaign is still sending, so a pause or
cancel stops every chunk not yet marked; at most two chunks ahead of what the provider has
answered), then each message is rendered, throttled (throttle.py) and handed to the hub's
channel object. The outcomes are written in group commits as they come in: ``sent`` with the
provider's id (for email our Message-ID), ``failed`` with the error, or back to ``pending`` for
a 429 / retry-after (never counted as a failure) or after a transient error (with backoff). A
row left ``sending`` by a process that died becomes ``unconfirmed`` once its lease ran out; it
is never sent again by itself.

Timeline: a campaign message is not written as a message in a conversation (100,000 new
conversations would bury the inbox); the customer's campaign history is their
``campaign_recipients`` rows, and a reply opens or joins a conversation linked to the campaign
through ``message_ref`` (for email our Message-ID, which replies name in In-Reply-To). The one
exception is the web chat widget, whose visitors only see messages of their conversation: there
the message is written into their latest chat conversation as an automated outbound message."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import bindparam, or_, select, update

from channels.base import Channel, DeliveryResult, IdentityKind, OutboundMessage, Party
from channels.email.adapter import EmailChannel
from channels.web.widget import WidgetChannel
from hub.campaigns import render
from hub.campaigns.claims import TABLE, Batch, Claimed, claim, mark_sending, sweep
from hub.campaigns.compose import compose
from hub.campaigns.send_control import start
from hub.campaigns.snapshot import outlets
from hub.campaigns.throttle import ChannelThrottle, Throttles
from hub.campaigns.views import CampaignContext
from hub.config.settings import Settings
from hub.db.campaign_models import Campaign, CampaignRecipient, RecipientState
from hub.db.models import Conversation
from hub.outbound.compose import queue_outbound
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.queue import RetryPolicy
from hub.platform.supervisor import Worker

log = logging.getLogger(__name__)
CR = CampaignRecipient
HORIZON_SECONDS = 2.0  # a batch holds about this much of its channel's sending
ROUND_SECONDS = 5.0  # the sweeps run between rounds of at most about this long
STOP_GRACE_SECONDS = 10.0
# Outcomes are written in groups of up to WRITE_GROUP, gathered for at most this long (a row is
# already committed sending, so this delays the record, never risks a second send; a crash
# leaves these few unconfirmed).
WRITE_GATHER_SECONDS = 0.05
WRITE_GROUP = 200
RETRIES = RetryPolicy(max_attempts=5, base_seconds=5, max_seconds=600, jitter=True)
IN_FLIGHT = (RecipientState.SENDING.value, RecipientState.UNCONFIRMED.value)
# a released row was never handed to a provider: reserved (pending) or marked but not handed
GIVEN_BACK = (RecipientState.QUEUED.value, RecipientState.SENDING.value)


@dataclass(frozen=True, slots=True)
class Outcome:
    item: Claimed
    kind: str  # sent, retry, failed, released; written: recorded already
    ref: str | None = None
    error: str | None = None
    delay: float = 0.0
    attempts: int = 0


class CampaignSender:
    """Sends running campaigns; ``context`` is what the service functions need."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        channels: Mapping[str, Channel],
        clock: Clock,
        outbox_wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.rules = settings.campaigns
        self.channels = channels
        self.clock = clock
        self.outbox_wake = outbox_wake
        self.context = CampaignContext(settings, channels, self.wake)
        self.throttles = Throttles(dict(self.rules.throttles))
        self._process = uuid.uuid4().hex[:12]
        self._batches = count(1)
        self._last_sweep = float("-inf")
        self._kinds = {
            route.channel: route.channel_kind for route in outlets(settings, channels).values()
        }
        self.worker = Worker(
            "relaydesk-campaigns",
            self._step,
            idle_seconds=self.rules.poll_seconds,
            grace_seconds=STOP_GRACE_SECONDS,
        )

    def wake(self) -> None:
        self.worker.wake()

    async def _step(self) -> float | None:
        sent = await self.run_once()
        return 0 if sent else None

    def _limits(self) -> dict[str, int]:
        limits = {}
        for channel, kind in self._kinds.items():
            throttle = self.throttles.of(channel, kind).throttle
            limits[channel] = max(
                1, min(self.rules.batch_size, math.ceil(throttle.per_second * HORIZON_SECONDS))
            )
        return limits

    async def run_once(self) -> int:
        """The sweeps (at most once per ``poll_seconds``), then each channel's batches side by
        side for up to ``ROUND_SECONDS`` (so a slow channel never holds up a fast one);
        returns how many recipients they held."""
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_sweep >= self.rules.poll_seconds:
            await self.sweep()
            self._last_sweep = loop.time()
        deadline = loop.time() + ROUND_SECONDS
        counts = await asyncio.gather(
            *(self._rounds(channel, limit, deadline) for channel, limit in self._limits().items())
        )
        if not sum(counts):
            await self.sweep()
            self._last_sweep = loop.time()
        return sum(counts)

    async def _rounds(self, channel: str, limit: int, deadline: float) -> int:
        """One channel's batches, one after the other, until none is due or the round ends."""
        loop = asyncio.get_running_loop()
        lease = timedelta(seconds=self.rules.lease_seconds)
        total = 0
        while True:
            token = f"{self._process}-{next(self._batches)}"
            batch = await claim(
                self.db, token, {channel: limit}, self.rules, lease, self.clock.now()
            )
            if not batch.items:
                return total
            await self.deliver(batch)
            total += len(batch.items)
            if loop.time() >= deadline:
                return total

    async def sweep(self) -> None:
        async def start_due(session: Any, campaign: Campaign, now: datetime) -> None:
            await start(session, self.context, campaign, now)

        async with self.db.writer() as session:
            await sweep(session, self.clock.now(), start_due, sqlite=self.db.is_sqlite)
            await session.commit()

    # --- one batch ------------------------------------------------------------------------------
    async def deliver(self, batch: Batch) -> None:
        """Send every recipient of ``batch`` and write the outcomes as they come in."""
        finished: asyncio.Queue[Outcome] = asyncio.Queue()
        by_channel: dict[str, list[Claimed]] = {}
        for item in batch.items:
            by_channel.setdefault(item.channel, []).append(item)
        feeders = [
            asyncio.create_task(self._feed(batch, channel, items, finished))
            for channel, items in by_channel.items()
        ]
        left = len(batch.items)
        try:
            while left:
                done = [await finished.get()]
                # a group commit: what else finishes within WRITE_GATHER_SECONDS goes along
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(WRITE_GATHER_SECONDS):
                        while len(done) < min(left, WRITE_GROUP):
                            done.append(await finished.get())
                while not finished.empty():
                    done.append(finished.get_nowait())
                await self._write(batch.token, done)
                left -= len(done)
        finally:
            for feeder in feeders:
                feeder.cancel()
            await asyncio.gather(*feeders, return_exceptions=True)
            if left:  # stopped part-way: write what is known, give back what was never handed
                await asyncio.shield(self._give_back(batch, finished))

    async def _feed(
        self, batch: Batch, channel: str, items: list[Claimed], finished: asyncio.Queue[Outcome]
    ) -> None:
        """Mark one channel's recipients ``sending`` a chunk at a time (one commit each), at
        most two chunks ahead of what the provider has answered, and send them."""
        throttle = self.throttles.of(channel, self._kinds.get(channel, ""))
        # a chunk: twice the sends in flight, at most a quarter second's worth (so a pause
        # stops a slow channel within half a second)
        limits = throttle.throttle
        size = max(1, min(limits.concurrency * 2, math.ceil(limits.per_second / 4)))
        ahead = asyncio.Semaphore(size * 2)
        lease = timedelta(seconds=self.rules.lease_seconds)
        tasks: list[asyncio.Task[None]] = []
        try:
            for start_at in range(0, len(items), size):
                chunk = items[start_at : start_at + size]
                for _ in chunk:
                    await ahead.acquire()
                marked = await mark_sending(
                    self.db, batch.token, [item.id for item in chunk], lease, self.clock.now()
                )
                for item in chunk:
                    if item.id in marked:
                        item.started = True
                        tasks.append(
                            asyncio.create_task(self._send(batch, item, throttle, ahead, finished))
                        )
                    else:  # paused, cancelled, or no longer this batch's
                        ahead.release()
                        finished.put_nowait(Outcome(item, "released"))
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _give_back(self, batch: Batch, finished: asyncio.Queue[Outcome]) -> None:
        outcomes = []
        while not finished.empty():
            outcomes.append(finished.get_nowait())
        written = {outcome.item.id for outcome in outcomes}
        outcomes += [
            Outcome(item, "released")
            for item in batch.items
            if not item.handed and item.id not in written
        ]
        if outcomes:
            with contextlib.suppress(Exception):
                await self._write(batch.token, outcomes)

    async def _send(
        self,
        batch: Batch,
        item: Claimed,
        throttle: ChannelThrottle,
        ahead: asyncio.Semaphore,
        finished: asyncio.Queue[Outcome],
    ) -> None:
        try:
            outcome = await self._attempt(batch, item, throttle)
        finally:
            ahead.release()
        finished.put_nowait(outcome)

    async def _attempt(self, batch: Batch, item: Claimed, throttle: ChannelThrottle) -> Outcome:
        campaign = batch.campaigns[item.campaign_id]
        channel = self.channels.get(item.channel)
        try:
            composed = compose(
                self.settings,
                campaign.content,
                item.person,
                name=campaign.name,
                campaign_id=campaign.id,
                recipient_id=item.id,
                channel_kind=self._kinds.get(item.channel, ""),
                address=item.address,
                now=self.clock.now(),
            )
        except render.RenderError as exc:
            return Outcome(item, "failed", error=f"template: {exc}", attempts=1)
        if channel is None:
            error = f"channel {item.channel} is not configured in this hub process"
            return Outcome(item, "retry", error=error, delay=30.0)
        message = OutboundMessage(
            message_id=-item.id,
            channel=item.channel,
            recipient=Party(
                IdentityKind(item.identity_kind), item.address, item.display_name or None
            ),
            text=composed.text,
            html=composed.html,
            subject=composed.subject,
            external_id=composed.message_id,
            headers=composed.headers,
        )
        if isinstance(channel, WidgetChannel):
            async with throttle.slot(item.address):
                item.handed = True
                return await self._into_chat(batch.token, item, composed.text)
        async with throttle.slot(item.address):
            item.handed = True
            try:
                if isinstance(channel, EmailChannel):  # its fast writer for bulk mail
                    result = await channel.send_bulk(message)
                else:
                    result = await channel.send(message)
            except Exception as exc:
                log.exception("campaign channel %s raised while sending", item.channel)
                result = DeliveryResult.failed(f"{type(exc).__name__}: {exc}")
        return self._outcome(item, result, composed.message_id)

    async def _into_chat(self, token: str, item: Claimed, text: str) -> Outcome:
        """A web chat visitor sees messages of their conversation (live, or when they come
        back), so the campaign message is written into their latest chat conversation as an
        automated outbound message (the outbox pushes it), and the recipient marked sent in
        the same transaction: exactly once, as a database write."""
        now = self.clock.now()
        async with self.db.writer() as session:
            conversation = await session.scalar(
                select(Conversation)
                .where(
                    Conversation.customer_id == item.customer_id,
                    Conversation.channel == item.channel,
                )
                .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
                .limit(1)
            )
            message = None
            if conversation is not None:
                message = await queue_outbound(
                    session,
                    self.settings,
                    conversation,
                    via=item.channel,
                    text=text,
                    subject="",
                    html=None,
                    now=now,
                    automated=True,
                )
            if message is None:
                error = f"the visitor has no conversation on {item.channel} to show it in"
                return Outcome(item, "failed", error=error, attempts=item.attempts + 1)
            message.raw = {**message.raw, "campaign_id": item.campaign_id, "recipient_id": item.id}
            recorded: Any = await session.execute(
                update(CR)
                .where(CR.id == item.id, CR.locked_by == token, CR.state.in_(IN_FLIGHT))
                .values(
                    state=RecipientState.SENT.value,
                    sent_at=now,
                    message_ref=f"message:{message.id}",
                    last_error=None,
                    locked_by=None,
                    locked_until=None,
                )
                .execution_options(synchronize_session=False)
            )
            if recorded.rowcount != 1:  # no longer this batch's: write nothing
                await session.rollback()
                return Outcome(item, "written")
            await session.commit()
        self.outbox_wake()
        return Outcome(item, "written")

    def _outcome(self, item: Claimed, result: DeliveryResult, message_id: str | None) -> Outcome:
        if result.ok:
            return Outcome(item, "sent", ref=message_id or result.external_id)
        error = result.error or "the provider refused the message"
        if result.retry_after is not None and not result.permanent:
            # a rate limit: tried again after the pause, never counted as a failure
            return Outcome(
                item,
                "retry",
                error=error,
                delay=max(result.retry_after, 0.05),
                attempts=item.attempts,
            )
        attempts = item.attempts + 1
        if result.permanent or attempts >= RETRIES.max_attempts:
            return Outcome(item, "failed", error=error, attempts=attempts)
        return Outcome(item, "retry", error=error, delay=RETRIES.delay(attempts), attempts=attempts)

    async def _write(self, token: str, outcomes: list[Outcome]) -> None:
        """The outcomes in one transaction. A row is written only while this batch holds it
        (``locked_by``); a row the sweep already called unconfirmed gets its true outcome."""
        now = self.clock.now()
        table = TABLE
        mine = (table.c.id == bindparam("rid"), table.c.locked_by == token)
        # (no IN: asyncpg's executemany takes no expanding parameters)
        in_flight = or_(*(table.c.state == state for state in IN_FLIGHT))
        cleared = {"locked_by": None, "locked_until": None}
        sent = [{"rid": o.item.id, "ref": o.ref} for o in outcomes if o.kind == "sent"]
        retry = [
            {
                "rid": o.item.id,
                "at": now + timedelta(seconds=o.delay),
                "n": o.attempts,
                "err": (o.error or "")[:2000],
            }
            for o in outcomes
            if o.kind == "retry"
        ]
        failed = [
            {"rid": o.item.id, "n": o.attempts, "err": (o.error or "")[:2000]}
            for o in outcomes
            if o.kind == "failed"
        ]
        released = [{"rid": o.item.id} for o in outcomes if o.kind == "released"]
        async with self.db.writer() as session:
            if sent:
                await session.execute(
                    update(table)
                    .where(*mine, in_flight)
                    .values(
                        state=RecipientState.SENT.value,
                        sent_at=now,
                        message_ref=bindparam("ref"),
                        last_error=None,
                        **cleared,
                    ),
                    sent,
                )
            if retry:
                await session.execute(
                    update(table)
                    .where(*mine, in_flight)
                    .values(
                        state=RecipientState.QUEUED.value,
                        next_attempt_at=bindparam("at"),
                        attempts=bindparam("n"),
                        last_error=bindparam("err"),
                        **cleared,
                    ),
                    retry,
                )
            if failed:
                await session.execute(
                    update(table)
                    .where(*mine, in_flight)
                    .values(
                        state=RecipientState.FAILED.value,
                        attempts=bindparam("n"),
                        last_error=bindparam("err"),
                        **cleared,
                    ),
                    failed,
                )
            if released:
                await session.execute(
                    update(table)
                    .where(*mine, or_(*(table.c.state == state for state in GIVEN_BACK)))
                    .values(state=RecipientState.QUEUED.value, **cleared),
                    released,
                )
            await session.commit()

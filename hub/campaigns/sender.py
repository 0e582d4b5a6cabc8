"""The campaign sender: a Worker (started by the Supervisor, see hub/assembly.py) that delivers
the recipients of running campaigns exactly once.

Each round: the sweeps (claims.py), then one batch: about two seconds of each channel's sends,
reserved by claims.claim. Each message is rendered and throttled (throttle.py); then its row
is committed ``sending`` (claims.mark_sending, grouped with the others starting at that moment,
and only while the campaign is still sending: a pause or cancel stops every message not yet
started at once) and only then handed to the hub's channel object. The outcomes are written
in group commits as they come in: ``sent`` with the provider's id (for email our Message-ID),
``failed`` with the error, or back to ``pending`` for a 429 / retry-after (never counted as a
failure) or after a transient error (with backoff). A row left ``sending`` by a process that
died becomes ``unconfirmed`` once its lease ran out; it is never sent again by itself.

Timeline: a campaign message is not written as a message in a conversation (100,000 empty
conversations would bury the inbox); the customer's campaign history is their
``campaign_recipients`` rows, and a reply opens or joins a conversation linked to the
campaign through ``message_ref`` (the optout/replies side)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import bindparam, or_, update

from channels.base import Channel, DeliveryResult, IdentityKind, OutboundMessage, Party
from hub.campaigns import render
from hub.campaigns.claims import TABLE, Batch, Claimed, claim, mark_sending, sweep
from hub.campaigns.compose import compose
from hub.campaigns.service import CampaignContext, start
from hub.campaigns.snapshot import outlets
from hub.campaigns.throttle import Throttles
from hub.config.settings import Settings
from hub.db.campaign_models import Campaign, CampaignRecipient, RecipientState
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.queue import RetryPolicy
from hub.platform.supervisor import Worker

log = logging.getLogger(__name__)
CR = CampaignRecipient
HORIZON_SECONDS = 2.0  # a batch holds about this much of each channel's sending
STOP_GRACE_SECONDS = 10.0
RETRIES = RetryPolicy(max_attempts=5, base_seconds=5, max_seconds=600, jitter=True)
IN_FLIGHT = (RecipientState.SENDING.value, RecipientState.UNCONFIRMED.value)


@dataclass(frozen=True, slots=True)
class Outcome:
    item: Claimed
    kind: str  # sent, retry, failed, released
    ref: str | None = None
    error: str | None = None
    delay: float = 0.0
    attempts: int = 0


class CampaignSender:
    """Sends running campaigns; ``context`` is what the service functions need."""

    def __init__(
        self, db: Database, settings: Settings, channels: Mapping[str, Channel], clock: Clock
    ) -> None:
        self.db = db
        self.settings = settings
        self.rules = settings.campaigns
        self.channels = channels
        self.clock = clock
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
        """The sweeps (at most once per ``poll_seconds``), then one batch; returns how many
        recipients the batch held."""
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_sweep >= self.rules.poll_seconds:
            await self.sweep()
            self._last_sweep = loop.time()
        token = f"{self._process}-{next(self._batches)}"
        lease = timedelta(seconds=self.rules.lease_seconds)
        batch = await claim(self.db, token, self._limits(), self.rules, lease, self.clock.now())
        if batch.items:
            await self.deliver(batch)
        else:
            await self.sweep()
            self._last_sweep = loop.time()
        return len(batch.items)

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
        starter = _Starter(self, batch.token)
        tasks = [
            asyncio.create_task(self._send(batch, item, starter, finished)) for item in batch.items
        ]
        left = len(batch.items)
        try:
            while left:
                done = [await finished.get()]
                while not finished.empty():
                    done.append(finished.get_nowait())
                await self._write(batch.token, done)
                left -= len(done)
        finally:
            starter.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if left:  # stopped part-way: write what is known, give back what never started
                await asyncio.shield(self._give_back(batch, finished))

    async def _give_back(self, batch: Batch, finished: asyncio.Queue[Outcome]) -> None:
        outcomes = []
        while not finished.empty():
            outcomes.append(finished.get_nowait())
        written = {outcome.item.id for outcome in outcomes}
        outcomes += [
            Outcome(item, "released")
            for item in batch.items
            if not item.started and item.id not in written
        ]
        if outcomes:
            with contextlib.suppress(Exception):
                await self._write(batch.token, outcomes)

    async def _send(
        self,
        batch: Batch,
        item: Claimed,
        starter: _Starter,
        finished: asyncio.Queue[Outcome],
    ) -> None:
        campaign = batch.campaigns[item.campaign_id]
        kind = self._kinds.get(item.channel, "")
        channel = self.channels.get(item.channel)
        try:
            composed = compose(
                self.settings,
                campaign.content,
                item.person,
                name=campaign.name,
                campaign_id=campaign.id,
                recipient_id=item.id,
                channel_kind=kind,
                address=item.address,
                now=self.clock.now(),
            )
        except render.RenderError as exc:
            finished.put_nowait(Outcome(item, "failed", error=f"template: {exc}", attempts=1))
            return
        if channel is None:
            error = f"channel {item.channel} is not configured in this hub process"
            finished.put_nowait(Outcome(item, "retry", error=error, delay=30.0))
            return
        async with self.throttles.of(item.channel, kind).slot(item.address):
            if not await starter.start(item):  # paused, cancelled, or no longer ours
                finished.put_nowait(Outcome(item, "released"))
                return
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
            try:
                result = await channel.send(message)
            except Exception as exc:
                log.exception("campaign channel %s raised while sending", item.channel)
                result = DeliveryResult.failed(f"{type(exc).__name__}: {exc}")
        finished.put_nowait(self._outcome(item, result, composed.message_id))

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
                    .where(*mine, table.c.state == RecipientState.QUEUED.value)
                    .values(**cleared),
                    released,
                )
            await session.commit()


class _Starter:
    """Marks the batch's recipients ``sending`` right before their provider call, in group
    commits: whoever asks while one commit runs goes in the next."""

    def __init__(self, sender: CampaignSender, token: str) -> None:
        self.sender = sender
        self.token = token
        self._waiting: list[tuple[Claimed, asyncio.Future[bool]]] = []
        self._kick = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    async def start(self, item: Claimed) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        self._kick.set()
        return await future

    async def _run(self) -> None:
        lease = timedelta(seconds=self.sender.rules.lease_seconds)
        while True:
            await self._kick.wait()
            self._kick.clear()
            group, self._waiting = self._waiting, []
            if not group:
                continue
            try:
                marked = await mark_sending(
                    self.sender.db,
                    self.token,
                    [item.id for item, _ in group],
                    lease,
                    self.sender.clock.now(),
                )
            except Exception:
                log.exception("campaign recipients could not be marked sending")
                marked = set()
            for item, future in group:
                item.started = item.id in marked
                if not future.done():
                    future.set_result(item.started)

    def close(self) -> None:
        self._task.cancel()
        for _item, future in self._waiting:
            if not future.done():
                future.set_result(False)

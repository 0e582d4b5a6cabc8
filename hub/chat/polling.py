"""Telegram long polling, for deployments without a public URL: getUpdates in a loop, every
update's messages ingested (group-committed), and only then the offset moved past it, so an
update Telegram handed out is never confirmed before it is stored."""

from __future__ import annotations

import asyncio
import logging

from channels.telegram.adapter import PolledUpdate, TelegramChannel, TelegramUnavailable
from hub.inbound.ingest import Ingestor, IngestUnavailable
from hub.platform.supervisor import Worker

log = logging.getLogger(__name__)


class TelegramPoller:
    def __init__(self, channel: TelegramChannel, ingestor: Ingestor) -> None:
        self.channel = channel
        self.ingestor = ingestor
        self.offset: int | None = None
        self._webhook_cleared = False
        # getUpdates waits for updates itself (long polling): the next round starts at once.
        self.worker = Worker(
            f"telegram-poll-{self.channel.name}",
            self._step,
            idle_seconds=0,
            retry_seconds=self.channel.config.poll_retry_seconds,
        )

    async def _step(self) -> float:
        try:
            await self.poll_once()
        except (TelegramUnavailable, IngestUnavailable) as exc:
            # Expected while Telegram or the database is away: a warning, then a pause.
            log.warning("telegram %s: polling paused: %s", self.channel.name, exc)
            return self.channel.config.poll_retry_seconds
        return 0

    async def _store(self, update: PolledUpdate) -> None:
        for message in update.messages:
            await self.ingestor.submit(message)

    async def poll_once(self) -> int:
        """One getUpdates round; returns how many updates were stored and confirmed."""
        if not self._webhook_cleared:  # getUpdates is refused while a webhook is set
            await self.channel.delete_webhook()
            self._webhook_cleared = True
        updates = await self.channel.fetch_updates(self.offset)
        outcomes = await asyncio.gather(
            *(self._store(update) for update in updates), return_exceptions=True
        )
        stored = 0
        for update, outcome in zip(updates, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                # Not confirmed: Telegram hands this update (and the later ones) out again.
                raise IngestUnavailable(f"update {update.update_id}: {outcome}")
            self.offset = update.update_id + 1
            stored += 1
            await self.channel.answer_callbacks(update.messages)
            await self.channel.retire_keyboards(update.messages)
        return stored

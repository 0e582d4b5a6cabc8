"""The content of files customers send through Telegram and Slack, fetched after ingest.

Ingest stores a chat message with its attachment metadata only (``content_id`` = the
provider's file id), so the provider's 2xx never waits on a download. A supervised worker
finds those attachments and records one ``ChatFileFetch`` each, an item on the job queue,
which downloads the file through the channel's adapter (size checked against the cap before
downloading) and keeps it in ``stored_files`` at the attachment's position, where the download
routes serve it from. A failed download is retried with backoff; storing is idempotent (one
file per position).
The attachment's metadata says ``stored: true``, or ``stored: false`` and why not."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.downloads import FetchedFile, FetchFailed, FetchTooLarge
from hub.config.settings import ChatFileSettings
from hub.core.errors import chat_file_failed, chat_file_too_large
from hub.core.files import FileTooLarge, file_for, store_file
from hub.db.chat_models import ChatFileFetch
from hub.db.models import Direction, Message
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.queue import Claim, Failure, RetryPolicy, WorkQueue
from hub.platform.supervisor import Worker

# On first start, messages older than this are not looked at for files.
FIRST_WINDOW = timedelta(days=7)
# Messages this recent are looked at again next time, in case one with a lower id commits late.
SETTLE = timedelta(seconds=5)
SCAN_BATCH = 500
FETCH_BATCH = 20
MAX_ERROR = 500  # characters of an error kept on the fetch


@dataclass(frozen=True, slots=True)
class FileSource:
    """A chat channel the hub fetches files from: its adapter's ``fetch_file`` and the cap."""

    fetch: Callable[[str, int], Awaitable[FetchedFile]]
    max_bytes: int


@dataclass(frozen=True, slots=True)
class Work:
    fetch_id: int
    message_id: int
    position: int
    channel: str
    file_ref: str
    meta: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Result:
    content: FetchedFile | None = None
    not_kept: str | None = None  # over the cap: final, the reason
    error: str | None = None  # failed: retried unless ``permanent``
    permanent: bool = False
    retry_after: float | None = None


class ChatFileFetcher:
    def __init__(
        self,
        db: Database,
        sources: Mapping[str, FileSource],
        settings: ChatFileSettings,
        clock: Clock,
    ) -> None:
        self.db = db
        self.sources = sources
        self.settings = settings
        self.clock = clock
        self._cursor: int | None = None
        self.policy = RetryPolicy(settings.max_attempts, settings.retry_seconds, 86400.0)
        self.queue = WorkQueue(
            db,
            ChatFileFetch,
            clock,
            self.policy,
            lease_seconds=30.0,  # renewed while a download runs
            batch_size=FETCH_BATCH,
        )
        self.worker = Worker("chat-files", self._step, idle_seconds=settings.poll_seconds)

    @property
    def workers(self) -> tuple[Worker, ...]:
        """Nothing to run when no chat channel is configured."""
        return (self.worker,) if self.sources else ()

    def wake(self) -> None:
        self.worker.wake()

    async def _step(self) -> None:
        await self.run_once()

    async def run_once(self) -> int:
        """Look for new chat attachments, then fetch the due ones; returns how many ran."""
        while await self.discover():
            pass
        return await self.fetch_due()

    # -- discovery -------------------------------------------------------------------------
    async def _start_cursor(self, session: AsyncSession, now: datetime) -> int:
        last = await session.scalar(select(func.max(ChatFileFetch.message_id)))
        if last is not None:
            return int(last)
        first = await session.scalar(
            select(func.min(Message.id)).where(Message.created_at >= now - FIRST_WINDOW)
        )
        return int(first) - 1 if first is not None else 0

    async def discover(self) -> bool:
        """Record a pending fetch for each provider file of messages past the cursor; True
        when there may be more to look at right away (a full batch, all of it settled)."""
        now = self.clock.now()
        async with self.db.reader() as session:
            if self._cursor is None:
                self._cursor = await self._start_cursor(session, now)
            rows = (
                await session.execute(
                    select(Message.id, Message.channel, Message.attachments, Message.created_at)
                    .where(
                        Message.id > self._cursor,
                        Message.direction == Direction.INBOUND,
                        Message.channel.in_(list(self.sources)),
                    )
                    .order_by(Message.id)
                    .limit(SCAN_BATCH)
                )
            ).all()
            wanted = [
                (row.id, position, row.channel, str(meta["content_id"]))
                for row in rows
                for position, meta in enumerate(row.attachments or [])
                if isinstance(meta, dict) and meta.get("content_id")
            ]
            known: set[tuple[int, int]] = set()
            if wanted:
                found = await session.execute(
                    select(ChatFileFetch.message_id, ChatFileFetch.position).where(
                        ChatFileFetch.message_id.in_({w[0] for w in wanted})
                    )
                )
                known = {(message_id, position) for message_id, position in found}
        new = [w for w in wanted if (w[0], w[1]) not in known]
        if new:
            await self._record_new(new, now)
            self.wake()
        for row in rows:
            if row.created_at > now - SETTLE:
                break
            self._cursor = row.id
        return len(rows) == SCAN_BATCH and self._cursor == rows[-1].id

    async def _record_new(self, new: list[tuple[int, int, str, str]], now: datetime) -> None:
        async with self.db.writer() as session:
            for message_id, position, channel, file_ref in new:
                try:
                    async with session.begin_nested():
                        session.add(
                            ChatFileFetch(
                                message_id=message_id,
                                position=position,
                                channel=channel,
                                file_ref=file_ref[:255],
                                state="pending",
                                attempts=0,
                                next_attempt_at=now,
                                created_at=now,
                                updated_at=now,
                            )
                        )
                except IntegrityError:
                    pass  # recorded by another process meanwhile
            await session.commit()

    # -- fetching --------------------------------------------------------------------------
    async def fetch_due(self) -> int:
        return await self.queue.run_batch(self)

    async def prepare(self, claim: Claim) -> tuple[Work, Result]:
        async with self.db.reader() as session:
            row = await session.get(ChatFileFetch, claim.key)
            assert row is not None
            message = await session.get(Message, row.message_id)
            listed = (message.attachments or []) if message is not None else []
            meta = listed[row.position] if row.position < len(listed) else {}
            work = Work(row.id, row.message_id, row.position, row.channel, row.file_ref, dict(meta))
        return work, await self._download(work)

    async def _download(self, work: Work) -> Result:
        source = self.sources.get(work.channel)
        if source is None:
            return Result(error=f"channel {work.channel} is not configured", permanent=True)
        size = work.meta.get("size")
        if isinstance(size, int) and size > source.max_bytes:
            return Result(not_kept=chat_file_too_large(size, source.max_bytes))
        try:
            async with asyncio.timeout(self.settings.timeout_seconds):
                return Result(content=await source.fetch(work.file_ref, source.max_bytes))
        except FetchTooLarge as exc:
            return Result(not_kept=chat_file_too_large(exc.size, exc.limit))
        except FetchFailed as exc:
            return Result(error=str(exc), permanent=exc.permanent, retry_after=exc.retry_after)
        except TimeoutError:
            return Result(error=f"no answer within {self.settings.timeout_seconds:g} s")

    async def apply(
        self,
        session: AsyncSession,
        row: ChatFileFetch,
        prepared: tuple[Work, Result],
        now: datetime,
    ) -> str | Failure:
        work, result = prepared
        row.updated_at = now
        message = await session.get(Message, work.message_id)
        if message is None:
            return Failure("the message no longer exists", permanent=True)
        if result.content is not None:
            return await self._store(session, row, message, work, result.content, now)
        if result.not_kept is not None:
            row.last_error = result.not_kept
            _mark(message, work.position, stored=False, note=result.not_kept)
            return "not_kept"
        retry_after = None
        if result.retry_after:
            retry_after = max(self.policy.delay(row.attempts + 1), result.retry_after)
        error = (result.error or "unknown error")[:MAX_ERROR]
        return Failure(error, result.permanent, retry_after)

    async def failed(
        self, session: AsyncSession, row: ChatFileFetch, failure: Failure, now: datetime
    ) -> None:
        row.updated_at = now
        row.last_error = failure.error[:MAX_ERROR]
        message = await session.get(Message, row.message_id)
        if message is not None and row.state == "failed":
            note = chat_file_failed(row.channel, row.last_error)
            _mark(message, row.position, stored=False, note=note)

    async def _store(
        self,
        session: AsyncSession,
        row: ChatFileFetch,
        message: Message,
        work: Work,
        fetched: FetchedFile,
        now: datetime,
    ) -> str:
        source = self.sources[work.channel]
        if await file_for(session, message.id, work.position) is not None:
            return "stored"  # kept already (idempotent)
        try:
            await store_file(
                session,
                filename=str(work.meta.get("filename") or "file"),
                content_type=str(work.meta.get("content_type") or fetched.content_type or ""),
                content=fetched.content,
                now=now,
                message_id=message.id,
                position=work.position,
                max_bytes=source.max_bytes,
            )
        except FileTooLarge as exc:
            row.last_error = chat_file_too_large(exc.size, exc.limit)
            _mark(message, work.position, stored=False, note=row.last_error)
            return "not_kept"
        row.last_error = None
        _mark(message, work.position, stored=True)
        return "stored"


def _mark(message: Message, position: int, *, stored: bool, note: str | None = None) -> None:
    """Say on the attachment's metadata whether its content is kept (and if not, why)."""
    listed = [dict(meta) for meta in message.attachments or []]
    if position >= len(listed):
        return
    listed[position]["stored"] = stored
    if note:
        listed[position]["not_kept"] = note
    message.attachments = listed

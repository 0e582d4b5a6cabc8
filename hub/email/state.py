"""Mailbox health, persisted so admins see it: each inbound source (the SMTP listener, an IMAP
connection) records its state, the last error and, for IMAP, its position in the mailbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.email_models import EmailMailbox
from hub.platform.clock import Clock
from hub.platform.database import Database


@dataclass(frozen=True, slots=True)
class Position:
    uidvalidity: int | None
    last_uid: int


async def _row(session: AsyncSession, channel: str, source: str, now: datetime) -> EmailMailbox:
    row = await session.scalar(
        select(EmailMailbox).where(EmailMailbox.channel == channel, EmailMailbox.source == source)
    )
    if row is None:
        row = EmailMailbox(channel=channel, source=source, updated_at=now, last_uid=0, imported=0)
        session.add(row)
    return row


class MailboxStates:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def report(
        self, channel: str, source: str, state: str, *, error: str | None = None, **fields: Any
    ) -> None:
        """Record a state change; ``error`` also sets the last error and its time."""
        now = self.clock.now()
        for attempt in (1, 2):
            try:
                async with self.db.writer() as session:
                    row = await _row(session, channel, source, now)
                    row.state = state
                    row.updated_at = now
                    if error is not None:
                        row.last_error = error[:2000]
                        row.last_error_at = now
                    if state == "connected" or state == "listening":
                        row.connected_at = now
                    for key, value in fields.items():
                        setattr(row, key, value)
                    await session.commit()
                    return
            except IntegrityError:
                if attempt == 2:
                    raise

    async def position(self, channel: str) -> Position:
        async with self.db.reader() as session:
            row = await session.scalar(
                select(EmailMailbox).where(
                    EmailMailbox.channel == channel, EmailMailbox.source == "imap"
                )
            )
        if row is None:
            return Position(None, 0)
        return Position(row.uidvalidity, row.last_uid)

    async def commit_position(self, channel: str, uidvalidity: int, last_uid: int) -> None:
        now = self.clock.now()
        async with self.db.writer() as session:
            row = await _row(session, channel, "imap", now)
            row.uidvalidity = uidvalidity
            row.last_uid = last_uid
            row.imported = (row.imported or 0) + 1
            row.last_message_at = now
            row.updated_at = now
            await session.commit()

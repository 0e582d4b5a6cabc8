"""Whether a received mail is stored already (by its Message-ID, through any mailbox), asked for
every mail that arrives at about the same time in one read: mails delivered concurrently (SMTP
sessions, an IMAP batch, the CLI) share one read session and one statement instead of opening
one each. A mail found here is answered as a duplicate without entering the write path."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select

from hub.db.email_models import EmailRecord
from hub.db.models import Message
from hub.platform.database import Database

# Message-IDs asked in one statement at most (bound parameters stay well under any limit).
MAX_IDS = 500


@dataclass(frozen=True, slots=True)
class StoredMail:
    message_id: int | None
    conversation_id: int | None
    customer_id: int | None


_Ask = tuple[str, "asyncio.Future[StoredMail | None]"]


class KnownMail:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: list[_Ask] = []
        self._reader: asyncio.Task[None] | None = None

    async def find(self, header_id: str) -> StoredMail | None:
        """The stored mail with this Message-ID, or None."""
        future: asyncio.Future[StoredMail | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((header_id, future))
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_all())
        return await asyncio.shield(future)

    async def _read_all(self) -> None:
        await asyncio.sleep(0)  # mails parsed in this turn of the loop join the first read
        while self._waiting:
            asks, self._waiting = self._waiting[:MAX_IDS], self._waiting[MAX_IDS:]
            try:
                found = await self._read({header_id for header_id, _ in asks})
            except Exception as exc:
                for _, future in asks:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for header_id, future in asks:
                if not future.done():
                    future.set_result(found.get(header_id))

    async def _read(self, header_ids: set[str]) -> dict[str, StoredMail]:
        async with self.db.reader() as session:
            rows = await session.execute(
                select(
                    EmailRecord.header_id,
                    EmailRecord.message_id,
                    Message.conversation_id,
                    Message.customer_id,
                )
                .outerjoin(Message, Message.id == EmailRecord.message_id)
                .where(EmailRecord.header_id.in_(header_ids))
            )
            return {row[0]: StoredMail(row[1], row[2], row[3]) for row in rows}

"""The registered bots as one hub process delivers events to them. Every event is prepared
with the bots as they are now (an admin's edit — a new URL, a rotated secret, a bot
disabled or deleted — applies to the next event at once, in every process sharing the
database), but the events prepared at the same moment share one read of the bots table: a
read serves every event that asked for the bots before it started, so none of them gets
figures read before it asked. Nothing is kept between waves (no staleness to bound)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from hub.db.bots_models import Bot
from hub.platform.database import Database


@dataclass(frozen=True, slots=True)
class Target:
    """What delivering an event to a bot needs."""

    id: int
    kind: str
    url: str | None
    secret: str
    timeout_ms: int
    enabled: bool


class BotBook:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = asyncio.Lock()
        self._asked = 0  # tickets handed out, one per request
        self._served = 0  # every ticket up to this one is served by ``_found``
        self._found: Mapping[int, Target] = {}
        self.reads = 0  # how many times the table was read (figures, tests)

    async def target(self, bot_id: int) -> Target | None:
        """The bot as it is now (None: deleted)."""
        return (await self.targets()).get(bot_id)

    async def targets(self) -> Mapping[int, Target]:
        self._asked += 1
        ticket = self._asked
        async with self._lock:
            if self._served >= ticket:  # read by a read that started after we asked
                return self._found
            upto = self._asked  # everyone who asked so far asked before this read starts
            found = await self._read()
            self._found, self._served = found, upto
            return found

    async def _read(self) -> Mapping[int, Target]:
        self.reads += 1
        async with self.db.reader() as session:
            rows = await session.execute(
                select(Bot.id, Bot.kind, Bot.url, Bot.secret, Bot.timeout_ms, Bot.enabled)
            )
            return {row.id: Target(*row) for row in rows}

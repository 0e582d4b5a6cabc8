"""Rate limits that hold across every hub process: each hit is one atomic upsert on a counter
row in the database (``rate_counters``), never a count in one process's memory, so three
processes behind a proxy allow what one would.

A window opens at a key's first hit and lasts ``window_seconds``; the hits in it are counted and
those past ``limit`` are refused with the seconds until the window ends. (A fixed window: at its
edge a client may get up to twice the limit within one window's length, never more.) Keys are
stored hashed. If the database cannot count (down, or SQLite's writer busy) the hit is allowed:
a limiter never turns an outage into refusals."""

from __future__ import annotations

import hashlib
import logging
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete
from sqlalchemy.exc import SQLAlchemyError

from hub.db.ratelimit_models import RateCounter
from hub.db.upsert import dialect_insert
from hub.platform.database import Database

log = logging.getLogger(__name__)
KEEP = timedelta(hours=1)  # counters whose window opened longer ago than this are pruned
PRUNE_SHARE = 0.01  # one hit in a hundred prunes (an indexed range delete)


def _insert(db: Database) -> Any:
    return dialect_insert("sqlite" if db.is_sqlite else "postgresql", RateCounter)


@dataclass(frozen=True, slots=True)
class RateLimiter:
    scope: str
    limit: int
    window_seconds: float = 60.0

    async def check(self, db: Database, key: str, now: datetime | None = None) -> int:
        """Record a hit on ``key``; return 0 if allowed, else seconds until the next one is."""
        moment = datetime.now(UTC) if now is None else now
        window = timedelta(seconds=self.window_seconds)
        digest = hashlib.sha256(key.encode()).hexdigest()
        fresh = RateCounter.window_start <= moment - window
        statement = (
            _insert(db)
            .values(scope=self.scope, key=digest, hits=1, window_start=moment)
            .on_conflict_do_update(
                index_elements=["scope", "key"],
                set_={
                    "hits": case((fresh, 1), else_=RateCounter.hits + 1),
                    "window_start": case((fresh, moment), else_=RateCounter.window_start),
                },
            )
            .returning(RateCounter.hits, RateCounter.window_start)
        )
        try:
            async with db.writer() as session:
                hits, start = (await session.execute(statement)).one()
                if random.random() < PRUNE_SHARE:
                    await session.execute(
                        delete(RateCounter).where(RateCounter.window_start < moment - KEEP)
                    )
                await session.commit()
        except SQLAlchemyError as exc:
            log.warning("rate limit %s not counted (%s); allowed", self.scope, exc)
            return 0
        if int(hits) <= self.limit:
            return 0
        ends: datetime = start + window
        return max(1, math.ceil((ends - moment).total_seconds()))

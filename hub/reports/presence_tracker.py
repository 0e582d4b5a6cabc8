"""The process's presence tracker: requests and open live pages are written as activity (at
most every ``activity_write_seconds`` per agent, so a busy agent costs no write per click), and
a supervised sweep turns idle agents away and gone agents offline. Changes wake the live
streams, so the live operations view shows them at once."""

from __future__ import annotations

import time
from collections.abc import Callable

from hub.config.live import LiveSettings
from hub.db.models import Agent, Presence
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.supervisor import Worker
from hub.reports.presence import note_activity, sweep

RECHECK_SECONDS = 2.0  # an agent not shown online is looked at again this soon


class PresenceTracker:
    def __init__(
        self, db: Database, clock: Clock, settings: LiveSettings, changed: Callable[[], None]
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.changed = changed
        self._written: dict[tuple[int, bool], float] = {}
        self.worker = Worker(
            "relaydesk-presence", self.sweep_once, idle_seconds=settings.sweep_seconds
        )

    def _due(self, agent_id: int, presence: str | None, stream: bool) -> bool:
        last = self._written.get((agent_id, stream))
        if last is None:
            return True
        spacing = self.settings.activity_write_seconds
        if presence is not None and presence != Presence.ONLINE and not stream:
            spacing = min(spacing, RECHECK_SECONDS)
        return time.monotonic() - last >= spacing

    async def touch(
        self, agent_id: int, presence: str | None = None, *, stream: bool = False
    ) -> bool:
        """The agent (shown as ``presence``, when known) made a request, or has a live page
        open. Returns whether that brought them back online."""
        if not self._due(agent_id, presence, stream):
            return False
        self._written[(agent_id, stream)] = time.monotonic()
        async with self.db.writer() as session:
            agent = await session.get(Agent, agent_id)
            if agent is None:
                return False
            moved = await note_activity(session, agent, self.clock.now(), stream=stream)
            await session.commit()
        if moved:
            self.changed()
        return moved

    def forget(self, agent_id: int) -> None:
        """After a sign-in or sign-out: the next request is written at once."""
        self._written.pop((agent_id, False), None)
        self._written.pop((agent_id, True), None)

    async def sweep_once(self) -> float | None:
        async with self.db.writer() as session:
            moved = await sweep(session, self.settings, self.clock.now())
            await session.commit()
        for agent_id in moved:
            self.forget(agent_id)
        if moved:
            self.changed()
        return None

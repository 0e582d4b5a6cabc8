"""Report stories run on a clock the test drives, with nothing in the background: customers
write on the in-memory "api" channel (acknowledgements go out on "mail"), the test runs the
outbox dispatcher and the job runner when it says so. The office calendar is Monday to Friday,
09:00-17:00 UTC, and reports count days in UTC."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from channels.base import DeliveryResult, OutboundMessage
from channels.memory.adapter import MemoryChannel
from hub.platform.clock import ManualClock
from hub.reports import merge, queries
from tests.support.desk import Desk, MakeDesk, auth

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OFFICE = {
    "timezone": "UTC",
    "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
}
FAQ_RULE = {"name": "faq", "channels": ["api"], "keywords": ["password"], "bot": "faq"}
QUIET = {
    "jobs.poll_seconds": 3600,
    "followups.rules": [],
    "sla_policies": [],
    "calendars.office": OFFICE,
    "reports.calendar": "office",
    "routing.rules": [FAQ_RULE],
}


class FlakyChannel(MemoryChannel):
    """An in-memory channel whose provider refuses, for good, any message saying FAIL."""

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        if "FAIL" in message.text:
            return DeliveryResult.failed("recipient blocked the bot", permanent=True)
        return await super().send(message)


class Story:
    """A desk with helpers that read like the support day they tell."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.token = ""

    def at(self, when: datetime) -> None:
        self.desk.clock.current = when

    async def writes(self, sender: str, text: str) -> int:
        """``sender`` writes on their own thread (so a resolved conversation reopens)."""
        message = self.desk.memory["api"].message(text, sender=sender, thread_key=sender)
        [result] = await self.desk.ingest(message)
        await self.deliver()
        return int(result.conversation_id)

    async def replies(self, conversation_id: int, text: str, token: str | None = None) -> None:
        response = await self.desk.client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": text},
            headers=auth(token or self.token),
        )
        assert response.status == 201, await response.text()
        await self.deliver()

    async def status(self, conversation_id: int, status: str) -> None:
        response = await self.desk.client.patch(
            f"/api/v1/conversations/{conversation_id}",
            json={"status": status},
            headers=auth(self.token),
        )
        assert response.status == 200, await response.text()

    async def deliver(self) -> None:
        while await self.desk.hub.dispatcher.run_once():
            pass

    async def timings(self, **filters: Any) -> dict[str, queries.Timing]:
        found = merge.Filters(date(2026, 3, 1), date(2026, 3, 31), **filters)
        async with self.desk.db.reader() as session:
            return {t.metric: t for t in await queries.response_times(session, found)}


MakeStory = Callable[..., Awaitable[Story]]


@pytest.fixture
def make_story(make_desk: MakeDesk) -> MakeStory:
    async def make(**overrides: Any) -> Story:
        channels = {"api": FlakyChannel("api"), "mail": MemoryChannel("mail")}
        settings = {**QUIET, **overrides}
        desk = await make_desk(ManualClock(MONDAY_9), memory=channels, workers=False, **settings)
        return Story(desk)

    return make


@pytest.fixture
async def story(make_story: MakeStory) -> Story:
    return await make_story()

"""Report figures against a hand-computed history: business hours and a weekend, a reopened
conversation, a bot-answered one, an automated acknowledgement and a failed reply. The office
is open Monday to Friday 09:00-17:00 UTC; March 2nd 2026 is a Monday."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.db.models import Role
from hub.db.report_models import ReportFact
from tests.hub.reports.conftest import Story
from tests.support.desk import auth


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


async def history(story: Story) -> dict[str, int]:
    """The support month every figure below is computed from by hand."""
    desk = story.desk
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    added = await desk.client.post(
        "/api/v1/routing/faq",
        json={"question": "How do I reset my password?", "answer": "Use 'Forgot password'."},
        headers=auth(admin),
    )
    assert added.status == 201
    _, story.token = await desk.agent("ann@example.com")

    # A: answered in 10 min; a follow-up answered in 30 min; resolved after 1 h.
    story.at(at(2, 9))
    a = await story.writes("alice@example.com", "My invoice is wrong")
    assert any(m.automated for m in desk.sent("mail"))  # the acknowledgement went out
    story.at(at(2, 9, 10))
    await story.replies(a, "Sorry, checking")
    story.at(at(2, 9, 20))
    await story.writes("alice@example.com", "It is invoice 7")
    story.at(at(2, 9, 50))
    await story.replies(a, "Fixed")
    story.at(at(2, 10))
    await story.status(a, "resolved")

    # C: the FAQ bot answers; a person resolves it without writing: no first response.
    story.at(at(2, 11))
    c = await story.writes("carol@example.com", "How do I reset my password?")
    assert [m.automated for m in desk.sent("api")][-1] is True  # the bot's answer
    story.at(at(2, 11, 30))
    await story.status(c, "resolved")

    # D: the first reply fails for good; the second, 40 minutes after the question, arrives.
    story.at(at(2, 12))
    d = await story.writes("dave@example.com", "Cannot log in")
    story.at(at(2, 12, 10))
    await story.replies(d, "FAIL: try again")
    story.at(at(2, 12, 40))
    await story.replies(d, "Try the new link")

    # A again on Tuesday: reopened, a new first-response clock (5 min), resolved 30 min later.
    story.at(at(3, 9))
    assert await story.writes("alice@example.com", "Wrong again!") == a
    story.at(at(3, 9, 5))
    await story.replies(a, "Looking")
    story.at(at(3, 9, 30))
    await story.status(a, "resolved")

    # B: Friday 16:00, answered Monday 10:00: 66 h on the calendar, 2 h of business hours.
    story.at(at(6, 16))
    b = await story.writes("bob@example.com", "Parcel missing")
    story.at(at(9, 10))
    await story.replies(b, "Found it")
    return {"a": a, "b": b, "c": c, "d": d}


async def test_first_response_reply_and_resolution_times(story: Story) -> None:
    await history(story)
    figures = await story.timings()
    first = figures["first_response"]
    # A 600, D 2400, A reopened 300, B 237600 (business 7200); C (bot only) has none.
    assert first.count == 4
    assert first.calendar.mean == pytest.approx((600 + 2400 + 300 + 237600) / 4)
    assert first.business.mean == pytest.approx((600 + 2400 + 300 + 7200) / 4)
    assert first.calendar.median == pytest.approx(600, rel=0.01)  # lower median of 4
    assert first.business.p90 == pytest.approx(2400, rel=0.01)
    assert first.calendar.p90 == pytest.approx(2400, rel=0.01)
    # Every customer message: A 600, A 1800, D 2400, A 300, B 237600 (C's was never answered).
    reply = figures["reply"]
    assert reply.count == 5
    assert reply.calendar.mean == pytest.approx((600 + 1800 + 2400 + 300 + 237600) / 5)
    assert reply.business.mean == pytest.approx((600 + 1800 + 2400 + 300 + 7200) / 5)
    assert reply.calendar.median == pytest.approx(1800, rel=0.01)
    # Resolutions: A 3600, C 1800, A reopened 1800.
    resolution = figures["resolution"]
    assert resolution.count == 3
    assert resolution.calendar.mean == pytest.approx((3600 + 1800 + 1800) / 3)
    assert resolution.calendar.median == pytest.approx(1800, rel=0.01)
    # Histogram buckets: <1m, 1-5m, 5-15m, 15-60m, 1-4h, 4-8h, 8-24h, 1-3d, >3d
    assert first.calendar.histogram == [0, 0, 2, 1, 0, 0, 0, 1, 0]
    assert first.business.histogram == [0, 0, 2, 1, 1, 0, 0, 0, 0]


async def test_failed_and_automated_messages_never_count(story: Story) -> None:
    ids = await history(story)
    async with story.desk.db.reader() as session:
        from sqlalchemy import select

        facts = (
            await session.scalars(select(ReportFact).where(ReportFact.conversation_id == ids["d"]))
        ).all()
    answered = {f.kind: f.calendar_seconds for f in facts if f.state == "done"}
    assert answered["first_response"] == 2400  # not the failed reply at 10 minutes
    bot_facts = [f.kind for f in facts if f.conversation_id == ids["c"] and f.state == "done"]
    assert "first_response" not in bot_facts


async def test_follow_ups_ingested_in_bulk_are_counted(story: Story) -> None:
    """Follow-ups to waiting conversations take ingest's bulk path: each still starts a reply
    clock and counts as volume."""
    desk = story.desk
    _, story.token = await desk.agent("ann@example.com")
    first = await story.writes("amy@example.com", "Hello?")
    await story.writes("ben@example.com", "Hi")
    story.at(at(2, 9, 5))
    api = desk.memory["api"]
    follow_ups = [
        api.message("Anyone?", sender="amy@example.com", thread_key="amy@example.com"),
        api.message("Still here", sender="ben@example.com", thread_key="ben@example.com"),
    ]
    results = await desk.ingest(*follow_ups)
    assert all(r.quiet for r in results)  # the bulk path took them
    story.at(at(2, 9, 15))
    await story.replies(first, "Yes, here")
    figures = await story.timings()
    assert figures["reply"].count == 2  # Amy's two messages: 15 and 10 minutes
    assert figures["reply"].calendar.mean == pytest.approx((900 + 600) / 2)
    assert figures["first_response"].count == 1

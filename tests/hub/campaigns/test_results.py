"""A marketer reads a campaign's results: counts per campaign and per channel, skips by reason,
whether it is finished and which counts add up, sends over time as a chart beside its table,
and the per-recipient CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from hub.campaigns.results import (
    CSV_COLUMNS,
    ActivityBucket,
    activity_chart,
    activity_over_time,
    campaign_report,
    campaign_results,
    export_csv,
    results_chart,
    sends_over_time,
)
from hub.db.campaign_models import RecipientState as S
from tests.support.campaign_rows import campaign, person, recipient
from tests.support.desk import Desk

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _spring(desk: Desk) -> int:
    """Ten recipients: seven on email, three on Telegram, in every state."""
    spring = await campaign(desk, "Spring sale")
    rows: list[tuple[str, str, S, dict[str, object]]] = [
        ("email", "mail", S.SENT, {"sent_at": T0, "replied_at": T0 + timedelta(hours=1)}),
        ("email", "mail", S.SENT, {"sent_at": T0, "unsubscribed_at": T0 + timedelta(hours=2)}),
        ("email", "mail", S.SENT, {"sent_at": T0 + timedelta(minutes=1), "bounced_at": T0}),
        ("email", "mail", S.SENT, {"sent_at": T0 + timedelta(minutes=1)}),
        ("email", "mail", S.FAILED, {"error": "550 mailbox unavailable"}),
        ("email", "mail", S.SKIPPED, {"skip_reason": "opted_out"}),
        ("email", "mail", S.SKIPPED, {"skip_reason": "capped"}),
        ("telegram", "tg", S.SENT, {"sent_at": T0 + timedelta(minutes=3)}),
        ("telegram", "tg", S.QUEUED, {}),
        ("telegram", "tg", S.UNCONFIRMED, {}),
    ]
    for number, (kind, channel, state, extra) in enumerate(rows):
        address = f"p{number}@example.com" if kind == "email" else str(5550000 + number)
        who = await person(desk, f"Person {number}", **{kind: address})
        await recipient(desk, spring, who, kind, channel, state=state, **extra)  # type: ignore[arg-type]
    return spring


async def test_counts_per_campaign_and_channel(desk: Desk) -> None:
    spring = await _spring(desk)
    async with desk.db.reader() as session:
        results = await campaign_results(session, spring)
    total = results.total
    assert (total.recipients, total.sent, total.failed, total.skipped) == (10, 5, 1, 2)
    assert (total.queued, total.sending, total.unconfirmed) == (1, 0, 1)
    assert (total.replied, total.unsubscribed, total.bounced) == (1, 1, 1)
    assert dict(total.skipped_by_reason) == {"capped": 1, "opted_out": 1}
    by_channel = {c.channel: c.counts for c in results.channels}
    assert (by_channel["mail"].recipients, by_channel["mail"].sent) == (7, 4)
    assert (by_channel["tg"].recipients, by_channel["tg"].sent, by_channel["tg"].queued) == (
        3,
        1,
        1,
    )
    assert not results.finished
    explanation = results.explanation()
    assert "9 of 10 recipients are accounted for" in explanation
    assert "1 queued and 0 sending" in explanation
    assert "1 recipients were being sent to when the hub stopped" in explanation


async def test_finished_when_every_recipient_is_accounted_for(desk: Desk) -> None:
    done = await campaign(desk, "Done")
    for number, state in enumerate((S.SENT, S.FAILED, S.SKIPPED, S.UNCONFIRMED)):
        who = await person(desk, f"P{number}", email=f"d{number}@example.com")
        await recipient(desk, done, who, "email", "mail", state=state)
    async with desk.db.reader() as session:
        results = await campaign_results(session, done)
        empty = await campaign_results(session, 999)
    assert results.finished
    assert results.explanation().startswith(
        "Finished: 1 sent + 1 failed + 1 skipped + 1 unconfirmed + 0 cancelled = 4 recipients."
    )
    assert empty.total.recipients == 0 and empty.channels == ()


async def test_sends_over_time_and_the_chart(desk: Desk) -> None:
    spring = await _spring(desk)
    async with desk.db.reader() as session:
        minutes = await sends_over_time(session, spring)
        hours = await sends_over_time(session, spring, "hour")
    assert [(b.start, b.channel, b.sent) for b in minutes] == [
        (T0, "mail", 2),
        (T0 + timedelta(minutes=1), "mail", 2),
        (T0 + timedelta(minutes=3), "tg", 1),
    ]
    assert [(b.start, b.channel, b.sent) for b in hours] == [(T0, "mail", 4), (T0, "tg", 1)]
    svg = results_chart(minutes)
    assert svg.startswith("<svg") and "Messages sent over time" in svg
    assert "09:01" in svg and ">mail<" in svg and ">tg<" in svg
    assert "<script" not in svg and "http://kozea" not in svg.replace("xmlns", "")


async def test_replies_unsubscribes_and_bounces_over_time(desk: Desk) -> None:
    spring = await _spring(desk)
    async with desk.db.reader() as session:
        hours = await activity_over_time(session, spring, "hour")
    assert hours == [
        ActivityBucket(T0, sent=5, bounced=1),
        ActivityBucket(T0 + timedelta(hours=1), replied=1),
        ActivityBucket(T0 + timedelta(hours=2), unsubscribed=1),
    ]
    svg = activity_chart(hours, "hour")
    assert ">unsubscribed<" in svg and "03-02 10:00" in svg and "<script" not in svg

    async with desk.db.reader() as session:
        report = await campaign_report(session, spring)
    assert report.bucket == "minute"  # the sends took three minutes
    assert report.results.total.recipients == 10 and len(report.sends) == 3
    assert report.sends_chart().startswith("<svg") and report.activity_chart().startswith("<svg")


async def test_csv_export_has_one_row_per_recipient_with_masked_addresses(desk: Desk) -> None:
    spring = await _spring(desk)
    sneaky = await person(desk, '=HYPERLINK("http://evil")', email="x@example.com")
    await recipient(desk, spring, sneaky, "email", "mail", state=S.SENT, sent_at=T0)
    async with desk.db.reader() as session:
        chunks = [chunk async for chunk in export_csv(session, spring, chunk_rows=3)]
    assert len(chunks) >= 3  # streamed, not built in one piece
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 11
    first = rows[0]
    assert first["customer_name"] == "Person 0" and first["address"] == "p•••@example.com"
    assert first["state"] == "sent" and first["sent_at"] == "2026-03-02T09:00:00+00:00"
    assert first["replied_at"] == "2026-03-02T10:00:00+00:00"
    assert rows[4]["state"] == "failed" and rows[4]["error"] == "550 mailbox unavailable"
    assert rows[5]["reason"] == "opted_out"
    assert rows[7]["address"] == "•••0007" and rows[7]["channel"] == "tg"
    assert rows[8]["state"] == "queued" and rows[9]["state"] == "unconfirmed"
    assert rows[10]["customer_name"].startswith("'=HYPERLINK")
    assert "x@example.com" not in "".join(chunks)

"""When a campaign goes out: at the moment it was scheduled for, and never inside a
recipient's quiet hours in their own timezone (deferred to the end of them, not skipped)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hub.campaigns import send_control, views
from hub.campaigns.claims import quiet_until
from hub.config.campaigns import CampaignSettings
from hub.db.campaign_models import CampaignRecipient, RecipientState
from hub.db.models import Role
from tests.hub.campaigns.audience import add_person, add_segment, marketer
from tests.hub.campaigns.conftest import create, finished, moment, progress
from tests.support.desk import Desk
from tests.support.poll import eventually

NEW_YORK = ZoneInfo("America/New_York")


def test_quiet_hours_across_midnight_end_at_the_local_morning() -> None:
    rules = CampaignSettings(quiet_start_hour=21, quiet_end_hour=8)
    late = datetime(2026, 12, 3, 23, 30, tzinfo=NEW_YORK)
    assert quiet_until("America/New_York", late, rules) == datetime(
        2026, 12, 4, 8, 0, tzinfo=NEW_YORK
    ).astimezone(UTC)
    early = datetime(2026, 12, 3, 6, 0, tzinfo=NEW_YORK)
    assert quiet_until("America/New_York", early, rules) == datetime(
        2026, 12, 3, 8, 0, tzinfo=NEW_YORK
    ).astimezone(UTC)
    assert (
        quiet_until("America/New_York", datetime(2026, 12, 3, 12, tzinfo=NEW_YORK), rules) is None
    )
    assert quiet_until("UTC", late, rules) is None  # the default: the timezone is not known
    assert quiet_until("Not/AZone", late, rules) is None


async def test_a_recipient_in_quiet_hours_waits_for_the_morning(make_campaign_desk: Any) -> None:
    hour = datetime.now(NEW_YORK).hour
    desk: Desk = await make_campaign_desk(
        **{
            "campaigns.quiet_hours": True,
            "campaigns.quiet_start_hour": hour,
            "campaigns.quiet_end_hour": (hour + 2) % 24,
        }
    )
    assert desk.smtp is not None
    mia, _ = await desk.agent("mia@example.com", role=Role.MARKETER)
    now = moment(desk)
    asleep = await add_person(
        desk.db, now, "Nora", {"email": "nora@example.com"}, timezone="America/New_York"
    )
    await add_person(desk.db, now, "Uma", {"email": "uma@example.com"})  # timezone unknown
    campaign = await create(desk, marketer(mia), await add_segment(desk.db, now))
    async with desk.db.writer() as session:
        await send_control.send_now(
            session, marketer(mia), desk.hub.campaigns.context, campaign, now
        )
        await session.commit()
    desk.hub.campaigns.wake()
    await desk.smtp.wait_for(1)

    async def deferred() -> bool:
        async with desk.db.reader() as session:
            row = await session.scalar(
                select(CampaignRecipient).where(CampaignRecipient.customer_id == asleep.customer_id)
            )
        assert row is not None
        return row.next_attempt_at.replace(tzinfo=UTC) > now + timedelta(minutes=30)

    await eventually(deferred, 10, what="Nora's message deferred")

    async def uma_sent() -> bool:  # the mail reaches the server before its row says sent
        state = await progress(desk, marketer(mia), campaign)
        return state.count(RecipientState.SENT) == 1

    await eventually(uma_sent, 10, what="Uma's message marked sent")
    state = await progress(desk, marketer(mia), campaign)
    assert state.state == "sending"
    assert state.count(RecipientState.SENT) == 1 and state.count(RecipientState.QUEUED) == 1
    assert [mail.rcpt_tos for mail in desk.smtp.received] == [["uma@example.com"]]


async def test_a_scheduled_campaign_starts_at_its_moment(campaign_desk: Desk) -> None:
    desk = campaign_desk
    assert desk.smtp is not None
    mia, _ = await desk.agent("mia@example.com", role=Role.MARKETER)
    now = moment(desk)
    await add_person(desk.db, now, "Ann", {"email": "ann@example.com"})
    campaign = await create(desk, marketer(mia), await add_segment(desk.db, now))
    context = desk.hub.campaigns.context
    async with desk.db.writer() as session:
        with pytest.raises(views.CampaignError) as caught:
            await send_control.schedule(
                session, marketer(mia), context, campaign, now - timedelta(1), now
            )
        assert caught.value.field == "scheduled_at"
        view = await send_control.schedule(
            session, marketer(mia), context, campaign, now + timedelta(seconds=1), now
        )
        await session.commit()
    assert view.state == "scheduled"
    assert desk.smtp.received == []
    done = await finished(desk, marketer(mia), campaign)
    assert done.count(RecipientState.SENT) == 1
    assert [mail.rcpt_tos for mail in desk.smtp.received] == [["ann@example.com"]]

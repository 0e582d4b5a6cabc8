"""Two hub processes on one PostgreSQL database send the same campaign together: they share
the recipients (row claims with FOR UPDATE SKIP LOCKED) and nobody gets it twice."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from hub.db.campaign_models import RecipientState
from hub.db.models import Role
from tests.hub.campaigns.audience import add_person, add_segment, marketer
from tests.hub.campaigns.conftest import create, finished, moment, send
from tests.support.desk import Desk

RECIPIENTS = 100


async def test_two_processes_share_a_send_without_sending_twice(make_campaign_desk: Any) -> None:
    throttle = {"campaigns.throttles.email.per_second": 100, "campaigns.batch_size": 20}
    one: Desk = await make_campaign_desk(**throttle)
    if one.db.is_sqlite:
        pytest.skip("several hub processes share one PostgreSQL database, not a SQLite file")
    two: Desk = await make_campaign_desk(**throttle)
    assert one.smtp is not None
    mia, _ = await one.agent("mia@example.com", role=Role.MARKETER)
    now = moment(one)
    for number in range(RECIPIENTS):
        await add_person(one.db, now, f"Reader {number}", {"email": f"r{number}@example.com"})
    campaign = await create(one, marketer(mia), await add_segment(one.db, now))
    await send(one, marketer(mia), campaign)
    two.hub.campaigns.wake()
    done = await finished(two, marketer(mia), campaign, timeout=60)
    assert done.count(RecipientState.SENT) == RECIPIENTS and done.accounted
    received = Counter(mail.rcpt_tos[0] for mail in one.smtp.received)
    assert len(received) == RECIPIENTS and set(received.values()) == {1}
    for desk in (one, two):  # both processes sent part of it
        mail: Any = desk.hub.channels["mail"]
        assert mail.pool.connections_opened > 0

"""A marketer saves, renames, edits and deletes segments; the live count is the number of
customers the segment really selects, and the sample shows the first of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hub.campaigns.segments import (
    create_segment,
    delete_segment,
    list_segments,
    preview,
    update_segment,
)
from hub.core.consent import record_consent
from hub.core.customer_filters import members
from hub.core.customer_tags import set_tags
from hub.core.errors import ApiError
from hub.db.campaign_models import Campaign, ConsentSource, ConsentState, Segment
from hub.db.models import Customer, Identity
from hub.platform.clock import ManualClock
from tests.support.desk import Desk

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
VIP_WITH_EMAIL_CONSENT = {
    "all": [
        {"field": "tag", "op": "has", "value": "vip"},
        {"field": "consent", "op": "has", "value": "email"},
    ]
}


@pytest.fixture
def desk_clock() -> ManualClock:
    return ManualClock(NOW)


async def customer(
    desk: Desk, name: str, *, tags: tuple[str, ...] = (), email: str | None = None,
    consent: bool = False, tier: str = "standard",
) -> int:  # fmt: skip
    async with desk.db.writer() as session:
        row = Customer(
            name=name, name_key=name.lower(), tier=tier, tags=list(tags), attributes={},
            created_at=NOW - timedelta(days=30), last_contact_at=NOW - timedelta(days=3),
        )  # fmt: skip
        session.add(row)
        await session.flush()
        await set_tags(session, row, list(tags))
        if email:
            identity = Identity(customer_id=row.id, kind="email", address=email, created_at=NOW)
            session.add(identity)
            await session.flush()
            if consent:
                await record_consent(
                    session, identity.id, ConsentState.GRANTED, ConsentSource.FORM, NOW
                )
        await session.commit()
        return row.id


async def test_preview_counts_exactly_the_members_and_samples_the_first(desk: Desk) -> None:
    ana = await customer(desk, "Ana", tags=("vip",), email="ana@example.com", consent=True)
    await customer(desk, "Bo", tags=("vip",), email="bo@example.com")  # no consent
    cy = await customer(desk, "Cy", tags=("vip", "beta"), email="cy@example.com", consent=True)
    await customer(desk, "Di", email="di@example.com", consent=True)  # not vip
    async with desk.db.reader() as session:
        shown = await preview(session, VIP_WITH_EMAIL_CONSENT, NOW)
        chosen = set(await session.scalars(members(VIP_WITH_EMAIL_CONSENT, NOW)))
    assert shown.count == len(chosen) == 2
    assert [m.id for m in shown.sample] == [ana, cy]
    assert shown.sample[1].name == "Cy"
    assert shown.sample[1].tags == ("vip", "beta")
    assert shown.sample[1].identities == (("email", "cy@example.com"),)


async def test_a_segment_is_saved_renamed_edited_listed_with_its_count_and_deleted(
    desk: Desk,
) -> None:
    await customer(desk, "Ana", tags=("vip",), email="ana@example.com", consent=True)
    await customer(desk, "Bo", tags=("vip",), email="bo@example.com")
    async with desk.db.writer() as session:
        saved = await create_segment(session, "VIPs by email", VIP_WITH_EMAIL_CONSENT, NOW)
        await session.commit()
    async with desk.db.writer() as session:
        await update_segment(session, saved.id, NOW, name="Every VIP")
        await update_segment(
            session, saved.id, NOW, definition={"field": "tag", "op": "has", "value": "vip"}
        )
        await session.commit()
    async with desk.db.reader() as session:
        [listed] = await list_segments(session, NOW)
    assert (listed.name, listed.count) == ("Every VIP", 2)
    async with desk.db.writer() as session:
        await delete_segment(session, saved.id)
        await session.commit()
    assert await desk.count(Segment) == 0


async def test_a_wrong_definition_is_refused_naming_its_path(desk: Desk) -> None:
    wrong: dict[str, Any] = {
        "all": [
            {"field": "tag", "op": "has", "value": "vip"},
            {"field": "tier", "op": "eq", "value": ""},
        ]
    }
    async with desk.db.writer() as session:
        with pytest.raises(ApiError) as refused:
            await create_segment(session, "Broken", wrong, NOW)
        assert refused.value.status == 422
        assert "definition.all[1].value" in refused.value.fields
        with pytest.raises(ApiError) as empty:
            await create_segment(session, "Everybody", {"all": []}, NOW)
        assert "at least one condition" in empty.value.message
        with pytest.raises(ApiError) as unknown:
            await create_segment(
                session, "Ghost", {"field": "segment", "op": "in", "value": [999]}, NOW
            )
        assert "segment 999 does not exist" in unknown.value.message


async def test_names_are_unique_whatever_their_case(desk: Desk) -> None:
    async with desk.db.writer() as session:
        await create_segment(session, "Newsletter", VIP_WITH_EMAIL_CONSENT, NOW)
        with pytest.raises(ApiError) as taken:
            await create_segment(session, "  newsletter ", VIP_WITH_EMAIL_CONSENT, NOW)
    assert taken.value.status == 409
    assert taken.value.fields == {"name": "already used by another segment"}


async def test_a_segment_a_campaign_uses_cannot_be_deleted(desk: Desk) -> None:
    async with desk.db.writer() as session:
        used = await create_segment(session, "Spring", VIP_WITH_EMAIL_CONSENT, NOW)
        session.add(
            Campaign(name="Spring sale", segment_id=used.id, created_at=NOW, updated_at=NOW)
        )
        await session.commit()
    async with desk.db.writer() as session:
        with pytest.raises(ApiError) as refused:
            await delete_segment(session, used.id)
    assert refused.value.status == 409
    assert "used by campaign 'Spring sale'" in refused.value.message
    async with desk.db.reader() as session:
        assert await session.scalar(select(Segment.name)) == "Spring"


async def test_a_plain_date_means_midnight_utc(desk: Desk) -> None:
    await customer(desk, "Ana")  # a customer since 2026-01-31 09:00 UTC
    async with desk.db.reader() as session:
        since = await preview(
            session, {"field": "created", "op": "after", "value": "2026-01-31"}, NOW
        )
        later = await preview(
            session, {"field": "created", "op": "after", "value": "2026-02-01"}, NOW
        )
        with pytest.raises(ApiError) as wrong:
            await preview(session, {"field": "created", "op": "after", "value": "2026-02-30"}, NOW)
    assert (since.count, later.count) == (1, 0)
    assert wrong.value.fields == {"definition.value": "2026-02-30 is not a date"}

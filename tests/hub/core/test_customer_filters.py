"""A marketer's or account manager's filter picks exactly the customers it describes, in SQL,
on SQLite and PostgreSQL; a wrong filter is refused naming the place that is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hub.core.consent import consent_of, history_of, record_consent
from hub.core.customer_filters import FilterError, compile_filter, members, parse_filter
from hub.core.customer_tags import set_tags
from hub.db.campaign_models import ConsentSource, ConsentState, Segment, SegmentMember
from hub.db.models import Conversation, Customer, Identity, Ticket
from hub.platform.clock import ManualClock
from tests.support.desk import Desk


@pytest.fixture
def desk_clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


async def add_customer(
    desk: Desk,
    name: str,
    *,
    tier: str = "standard",
    tags: list[str] | None = None,
    attributes: dict[str, Any] | None = None,
    identities: tuple[tuple[str, str], ...] = (),
    days_since_contact: int | None = None,
) -> int:
    now = desk.clock.now()
    async with desk.db.writer() as session:
        customer = Customer(
            name=name,
            name_key=name.lower(),
            tier=tier,
            tags=tags or [],
            attributes=attributes or {},
            created_at=now - timedelta(days=400),
            last_contact_at=None
            if days_since_contact is None
            else now - timedelta(days=days_since_contact),
        )
        session.add(customer)
        await session.flush()
        await set_tags(session, customer, tags or [])
        for kind, address in identities:
            session.add(
                Identity(customer_id=customer.id, kind=kind, address=address, created_at=now)
            )
        await session.commit()
        return customer.id


async def chosen(desk: Desk, definition: dict[str, Any]) -> set[int]:
    async with desk.db.reader() as session:
        return set(await session.scalars(members(definition, desk.clock.now())))


async def test_fields_tags_attributes_and_identities_combine_with_and_or(desk: Desk) -> None:
    ana = await add_customer(
        desk,
        "Ana",
        tier="gold",
        tags=["vip", "beta"],
        attributes={"plan": "pro", "seats": 40},
        identities=(("email", "ana@example.com"), ("telegram", "111")),
        days_since_contact=2,
    )
    bo = await add_customer(
        desk,
        "Bo",
        tags=["beta"],
        attributes={"seats": 5},
        identities=(("web", "visitor-1"),),
        days_since_contact=90,
    )
    cy = await add_customer(desk, "Cy", identities=(("slack", "U1"),))

    assert await chosen(desk, {"field": "tier", "op": "eq", "value": "gold"}) == {ana}
    assert await chosen(desk, {"field": "tag", "op": "has", "value": "beta"}) == {ana, bo}
    assert await chosen(desk, {"field": "tag", "op": "has_not", "value": "beta"}) == {cy}
    assert await chosen(desk, {"field": "attribute.seats", "op": "gte", "value": 10}) == {ana}
    assert await chosen(desk, {"field": "attribute.plan", "op": "eq", "value": "pro"}) == {ana}
    assert await chosen(desk, {"field": "attribute.plan", "op": "exists", "value": False}) == {
        bo,
        cy,
    }
    assert await chosen(desk, {"field": "identity", "op": "has", "value": "widget"}) == {bo}
    assert await chosen(desk, {"field": "last_contact", "op": "before", "value": "-30d"}) == {bo}
    assert await chosen(desk, {"field": "last_contact", "op": "is_null", "value": True}) == {cy}
    either = {
        "any": [
            {"field": "identity", "op": "has", "value": "slack"},
            {
                "all": [
                    {"field": "tag", "op": "has", "value": "beta"},
                    {"not": {"field": "tier", "op": "eq", "value": "gold"}},
                ]
            },
        ]
    }
    assert await chosen(desk, either) == {bo, cy}


async def test_activity_consent_and_imported_members(desk: Desk) -> None:
    now = desk.clock.now()
    ana = await add_customer(desk, "Ana", identities=(("email", "ana@example.com"),))
    bo = await add_customer(desk, "Bo", identities=(("email", "bo@example.com"),))
    async with desk.db.writer() as session:
        for number, days_ago in enumerate((1, 3, 5), start=1):
            conversation = Conversation(
                token=f"t{number}",
                customer_id=ana,
                channel="mail",
                created_at=now - timedelta(days=days_ago),
                last_activity_at=now,
            )
            session.add(conversation)
            await session.flush()
            session.add(
                Ticket(
                    number=number,
                    conversation_id=conversation.id,
                    status="open" if number == 1 else "solved",
                    created_at=now - timedelta(days=days_ago),
                    updated_at=now,
                )
            )
        identity = await session.scalar(select(Identity.id).where(Identity.customer_id == bo))
        assert identity is not None
        await record_consent(session, identity, ConsentState.GRANTED, ConsentSource.FORM, now)
        segment = Segment(name="Imported", definition={}, created_at=now, updated_at=now)
        session.add(segment)
        await session.flush()
        session.add(SegmentMember(segment_id=segment.id, customer_id=bo, added_at=now))
        await session.commit()
        segment_id = segment.id

    assert await chosen(desk, {"field": "open_tickets", "op": "gte", "value": 1}) == {ana}
    repeated = {"field": "tickets_in_days", "op": "gte", "value": {"count": 3, "days": 7}}
    assert await chosen(desk, repeated) == {ana}
    assert await chosen(desk, {"field": "consent", "op": "has", "value": "email"}) == {bo}
    assert await chosen(desk, {"field": "consent", "op": "has_not", "value": "any"}) == {ana}
    assert await chosen(desk, {"field": "segment", "op": "in", "value": [segment_id]}) == {bo}
    assert await chosen(desk, {"all": []}) == {ana, bo}

    async with desk.db.writer() as session:
        identity = await session.scalar(select(Identity.id).where(Identity.customer_id == bo))
        assert identity is not None
        later = now + timedelta(minutes=5)
        await record_consent(
            session, identity, ConsentState.REVOKED, ConsentSource.UNSUBSCRIBE, later
        )
        await session.commit()
        [view] = await consent_of(session, bo)
        history = await history_of(session, bo)
    assert (view.state, view.source) == (ConsentState.REVOKED, ConsentSource.UNSUBSCRIBE)
    assert [change.state for change in history] == ["granted", "revoked"]
    assert await chosen(desk, {"field": "consent", "op": "has", "value": "email"}) == set()


@pytest.mark.parametrize(
    ("definition", "path", "problem"),
    [
        ({"field": "shoe_size", "op": "eq", "value": 9}, "field", "unknown field"),
        ({"field": "tier", "op": "gt", "value": "gold"}, "op", "tier takes"),
        ({"all": [{}, {"field": "tier", "op": "eq", "value": ""}]}, "all[0]", "must be"),
        (
            {"any": [{"field": "last_contact", "op": "before", "value": "yesterday"}]},
            "any[0].value",
            "ISO",
        ),
        ({"field": "tickets_in_days", "op": "gte", "value": {"count": 2}}, "value", "count"),
        ({"field": "attribute.a b", "op": "eq", "value": 1}, "field", "attribute names"),
        ("everyone", "filter", "must be an object"),
    ],
)
def test_a_wrong_filter_is_refused_naming_where(
    definition: object, path: str, problem: str
) -> None:
    with pytest.raises(FilterError) as refused:
        parse_filter(definition)
    assert refused.value.path == path
    assert problem in refused.value.problem


async def test_a_number_filter_passes_over_attributes_that_are_not_numbers(desk: Desk) -> None:
    big = await add_customer(desk, "Big", attributes={"seats": 40})
    await add_customer(desk, "Unknown", attributes={"seats": "n/a"})
    await add_customer(desk, "Zero", attributes={"seats": 0})
    assert await chosen(desk, {"field": "attribute.seats", "op": "gte", "value": 10}) == {big}
    assert len(await chosen(desk, {"field": "attribute.seats", "op": "gte", "value": 0})) == 2


async def test_tags_are_matched_in_their_normal_form(desk: Desk) -> None:
    async with desk.db.writer() as session:
        customer = Customer(name="Tagged", created_at=desk.clock.now())
        session.add(customer)
        await session.flush()
        await set_tags(session, customer, ["early bird"])
        await session.commit()
        tagged = customer.id
    assert await chosen(desk, {"field": "tag", "op": "has", "value": " Early  Bird"}) == {tagged}


async def test_a_sample_picks_the_customers_a_count_picks(desk: Desk) -> None:
    """Tags and identities are read through their indexes for a count and probed customer by
    customer for a sample (``first_by_id``): either way the same customers, negations and
    groups included."""
    ana = await add_customer(desk, "Ana", tags=["vip", "beta"], identities=(("telegram", "4242"),))
    bo = await add_customer(desk, "Bo", tags=["beta"])
    cy = await add_customer(desk, "Cy", tier="gold")
    vip, beta = ({"field": "tag", "op": "has", "value": tag} for tag in ("vip", "beta"))
    telegram = {"field": "identity", "op": "has", "value": "telegram"}
    definitions: list[tuple[dict[str, Any], set[int]]] = [
        (beta, {ana, bo}),
        ({"field": "tag", "op": "has_not", "value": "beta"}, {cy}),
        ({"any": [vip, {"field": "tier", "op": "eq", "value": "gold"}]}, {ana, cy}),
        ({"not": {"all": [vip, beta]}}, {bo, cy}),
        ({"not": beta}, {cy}),
        (telegram, {ana}),
        ({"field": "identity", "op": "has_not", "value": "telegram"}, {bo, cy}),
        ({"any": [telegram, {"field": "tier", "op": "eq", "value": "gold"}]}, {ana, cy}),
        ({"not": {"any": [telegram, beta]}}, {cy}),
    ]
    for definition, expected in definitions:
        now = desk.clock.now()
        for first_by_id in (False, True):
            condition = compile_filter(definition, now, first_by_id=first_by_id)
            async with desk.db.reader() as session:
                found = set(await session.scalars(select(Customer.id).where(condition)))
            assert found == expected, (definition, first_by_id)

"""A marketer imports a CSV of customers into a segment: new people are created, known ones
(matched by address) updated, consent recorded with the source "import"; a file with one bad
row imports nothing and says which row and column is wrong."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from hub.campaigns.customer_import import ImportRejected, import_customers
from hub.campaigns.segments import create_segment, preview
from hub.core.consent import consent_of, history_of
from hub.core.errors import ApiError
from hub.db.campaign_models import ConsentChange, ConsentSource, ConsentState, SegmentMember
from hub.db.models import Customer, Identity
from hub.platform.clock import ManualClock
from tests.support.desk import Desk

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GOOD = (
    "name,email,telegram,company,tier,tags,attribute.plan,attribute.seats,locale,timezone,consent\n"
    "Ana Lima,Ana@Example.com,,Acme,gold,vip; beta,pro,40,pt-BR,America/Sao_Paulo,yes\n"
    'Bo Chen,bo@example.com,123456,"Chen, Ltd",,newsletter,,,en,,no\n'
    "Cy,,987654,,,,,,,,\n"
)


@pytest.fixture
def desk_clock() -> ManualClock:
    return ManualClock(NOW)


async def new_segment(desk: Desk, name: str = "Trade fair leads") -> int:
    async with desk.db.writer() as session:
        segment = await create_segment(session, name, None, NOW)
        await session.commit()
        return segment.id


async def run_import(desk: Desk, segment_id: int, csv: str) -> object:
    async with desk.db.writer() as session:
        result = await import_customers(session, segment_id, csv.encode(), NOW)
        await session.commit()
        return result


async def customer_by_email(desk: Desk, email: str) -> Customer:
    async with desk.db.reader() as session:
        found = await session.scalar(
            select(Customer)
            .join(Identity, Identity.customer_id == Customer.id)
            .where(Identity.kind == "email", Identity.address == email)
        )
        assert found is not None
        return found


async def test_imported_customers_are_created_and_become_the_segments_members(
    desk: Desk,
) -> None:
    segment = await new_segment(desk)
    result = await run_import(desk, segment, GOOD)
    assert result == type(result)(
        rows=3, created=3, updated=0, added_to_segment=3, consents_recorded=3
    )
    ana = await customer_by_email(desk, "ana@example.com")
    assert (ana.name, ana.company, ana.tier, ana.locale, ana.timezone) == (
        "Ana Lima", "Acme", "gold", "pt-BR", "America/Sao_Paulo",
    )  # fmt: skip
    assert ana.tags == ["vip", "beta"]
    assert ana.attributes == {"plan": "pro", "seats": 40}
    bo = await customer_by_email(desk, "bo@example.com")
    assert bo.company == "Chen, Ltd"
    async with desk.db.reader() as session:
        ana_consent = await consent_of(session, ana.id)
        bo_consent = {(c.kind, c.state) for c in await consent_of(session, bo.id)}
        [change] = await history_of(session, ana.id)
        shown = await preview(session, {"field": "segment", "op": "in", "value": [segment]}, NOW)
        saved = await session.scalar(
            select(SegmentMember.customer_id).where(SegmentMember.customer_id == ana.id)
        )
    assert [(c.kind, c.state, c.source) for c in ana_consent] == [
        ("email", ConsentState.GRANTED, ConsentSource.IMPORT)
    ]
    assert change.source == ConsentSource.IMPORT
    assert bo_consent == {("email", ConsentState.REVOKED), ("telegram", ConsentState.REVOKED)}
    assert shown.count == 3
    assert saved == ana.id


async def test_a_known_customer_is_updated_not_duplicated(desk: Desk) -> None:
    await desk_customer_writes(desk)
    before = await customer_by_email(desk, "jane@example.com")
    segment = await new_segment(desk)
    await run_import(
        desk,
        segment,
        "email,company,tags,telegram\n JANE@example.com ,Cooper & Co,imported,555\n",
    )
    after = await customer_by_email(desk, "jane@example.com")
    assert after.id == before.id
    assert after.company == "Cooper & Co"
    assert after.name == before.name  # an empty or missing column changes nothing
    assert "imported" in after.tags
    assert await desk.count(Customer) == 1
    assert await desk.count(Identity, Identity.customer_id == after.id) == 2


async def desk_customer_writes(desk: Desk) -> None:
    async with desk.db.writer() as session:
        customer = Customer(
            name="Jane Cooper", name_key="jane cooper", created_at=NOW, tags=[], attributes={}
        )
        session.add(customer)
        await session.flush()
        session.add(
            Identity(
                customer_id=customer.id, kind="email", address="jane@example.com", created_at=NOW
            )
        )
        await session.commit()


@pytest.mark.parametrize(
    ("bad_row", "column", "problem"),
    [
        ("Dee,not-an-address,gold,,yes", "email", "is not an email address"),
        ("Dee,dee@example.com,diamond,,yes", "tier", "unknown tier 'diamond'"),
        ("Dee,dee@example.com,gold," + "x" * 501 + ",yes", "attribute.plan", "longer than 500"),
        ("Dee,dee@example.com,gold,,maybe", "consent", "write yes or no"),
    ],
)
async def test_one_bad_row_imports_nothing_and_names_row_and_column(
    desk: Desk, bad_row: str, column: str, problem: str
) -> None:
    segment = await new_segment(desk)
    csv = (
        "name,email,tier,attribute.plan,consent\n"
        "Ana,ana@example.com,gold,pro,yes\n"
        f"{bad_row}\n"
        "Bo,bo@example.com,,,no\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        await run_import(desk, segment, csv)
    [found] = rejected.value.problems
    assert (found.row, found.column) == (3, column)
    assert problem in found.problem
    assert await desk.count(Customer) == 0
    assert await desk.count(Identity) == 0
    assert await desk.count(SegmentMember) == 0
    assert await desk.count(ConsentChange) == 0


async def test_file_level_problems_are_clear(desk: Desk) -> None:
    segment = await new_segment(desk)
    with pytest.raises(ImportRejected) as unknown:
        await run_import(desk, segment, "name,e-mail\nAna,ana@example.com\n")
    assert [(p.row, p.column) for p in unknown.value.problems] == [(1, "e-mail"), (1, "email")]
    with pytest.raises(ApiError) as binary:
        await run_import(desk, segment, "")
    assert binary.value.status == 400
    async with desk.db.writer() as session:
        with pytest.raises(ApiError) as large:
            await import_customers(session, segment, b"email\n" * 100, NOW, max_bytes=100)
    assert large.value.status == 413
    assert "larger than the limit of 100 bytes" in large.value.message
    twice = "email\nana@example.com\nANA@example.com\n"
    with pytest.raises(ImportRejected) as repeated:
        await run_import(desk, segment, twice)
    assert repeated.value.problems[0].problem == "'ana@example.com' is also on row 2"

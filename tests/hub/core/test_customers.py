"""Customer resolution through the ingest pipeline: exact identity first, a new customer otherwise,
and fuzzy duplicate candidates recorded for agents to merge later."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from channels.base import IdentityKind
from hub.db.models import Customer, DuplicateCandidate, Identity
from hub.platform.clock import ManualClock
from tests.support.desk import Desk
from tests.support.messages import inbound


@pytest.fixture
def desk_clock() -> ManualClock:
    """These stories drive the clock."""
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


async def candidates(desk: Desk) -> list[tuple[int, int, float, str]]:
    async with desk.db.reader() as session:
        rows = (
            await session.execute(
                select(
                    DuplicateCandidate.customer_id,
                    DuplicateCandidate.candidate_id,
                    DuplicateCandidate.score,
                    DuplicateCandidate.reason,
                ).order_by(DuplicateCandidate.id)
            )
        ).all()
    return [(a, b, s, r) for a, b, s, r in rows]


async def test_known_identity_resolves_to_its_customer(desk: Desk) -> None:
    [first] = await desk.ingest(inbound("1", name=None, address="jane@example.com"))
    [second] = await desk.ingest(inbound("2", name="Jane Cooper", address="jane@example.com"))
    assert second.customer_id == first.customer_id
    assert await desk.count(Customer) == 1
    assert await desk.count(Identity) == 1
    async with desk.db.reader() as session:
        customer = await session.get(Customer, first.customer_id)
    assert customer is not None
    assert customer.name == "Jane Cooper"  # learned from the second message
    assert customer.last_contact_at is not None


async def test_known_name_is_not_overwritten_by_a_later_display_name(desk: Desk) -> None:
    [first] = await desk.ingest(inbound("1", name="Jane Cooper", address="jane@example.com"))
    await desk.ingest(inbound("2", name="JC", address="jane@example.com"))
    async with desk.db.reader() as session:
        customer = await session.get(Customer, first.customer_id)
    assert customer is not None and customer.name == "Jane Cooper"


async def test_unknown_identity_creates_customer_and_identity(desk: Desk) -> None:
    [jane] = await desk.ingest(inbound("1", name="Jane Cooper", address="jane@example.com"))
    [tom] = await desk.ingest(inbound("2", name="Tom Baker", address="tom@baker.example"))
    assert jane.customer_id != tom.customer_id
    async with desk.db.reader() as session:
        identities = (
            await session.execute(
                select(Identity.customer_id, Identity.kind, Identity.address).order_by(Identity.id)
            )
        ).all()
    assert [tuple(row) for row in identities] == [
        (jane.customer_id, "email", "jane@example.com"),
        (tom.customer_id, "email", "tom@baker.example"),
    ]
    assert await candidates(desk) == []


async def test_same_address_of_another_kind_is_another_identity(desk: Desk) -> None:
    [mail] = await desk.ingest(inbound("1", address="jane"))
    [chat] = await desk.ingest(inbound("2", address="jane", kind=IdentityKind.TELEGRAM))
    assert mail.customer_id != chat.customer_id


async def test_similar_name_at_another_address_is_a_candidate(desk: Desk) -> None:
    [jane] = await desk.ingest(inbound("1", name="Jane Cooper", address="jane@acme.example"))
    [typo] = await desk.ingest(inbound("2", name="Jane Coper", address="jc@home.example"))
    assert typo.customer_id != jane.customer_id  # never merged automatically
    [(new, old, score, reason)] = await candidates(desk)
    assert (new, old, reason) == (typo.customer_id, jane.customer_id, "similar name")
    assert 88 <= score < 100


async def test_accents_case_and_spacing_do_not_hide_a_duplicate(desk: Desk) -> None:
    [first] = await desk.ingest(inbound("1", name="José  Álvarez", address="jose@a.example"))
    [second] = await desk.ingest(inbound("2", name="jose alvarez", address="ja@b.example"))
    [(new, old, score, reason)] = await candidates(desk)
    assert (new, old, score, reason) == (
        second.customer_id,
        first.customer_id,
        100.0,
        "similar name",
    )


async def test_family_name_first_is_a_candidate(desk: Desk) -> None:
    [first] = await desk.ingest(inbound("1", name="Jane Cooper", address="jane@acme.example"))
    [second] = await desk.ingest(inbound("2", name="Cooper, Jane", address="cooper@b.example"))
    [(new, old, score, reason)] = await candidates(desk)
    assert (new, old, reason) == (second.customer_id, first.customer_id, "similar name")
    assert score >= 88


async def test_namesakes_writing_at_once_are_flagged_once_each_later_one_pointing_back(
    desk: Desk,
) -> None:
    """Written together, the way each would be alone: every new customer is compared with
    the ones before it, never with the ones after."""
    first, typo, again = await desk.ingest(
        inbound("1", name="Jane Cooper", address="jane@acme.example"),
        inbound("2", name="Jane Coper", address="jc@home.example"),
        inbound("3", name="Jane Cooper", address="cooper@third.example"),
    )
    found = {(new, old): (score, reason) for new, old, score, reason in await candidates(desk)}
    assert set(found) == {
        (typo.customer_id, first.customer_id),
        (again.customer_id, first.customer_id),
        (again.customer_id, typo.customer_id),
    }
    assert found[(again.customer_id, first.customer_id)] == (100.0, "similar name")
    assert 88 <= found[(typo.customer_id, first.customer_id)][0] < 100


async def test_same_mailbox_at_another_domain_is_a_candidate(desk: Desk) -> None:
    [work] = await desk.ingest(inbound("1", name="Jane Cooper", address="jane.cooper@acme.example"))
    [home] = await desk.ingest(inbound("2", name=None, address="jane.cooper@gmail.example"))
    [(new, old, score, reason)] = await candidates(desk)
    assert (new, old) == (home.customer_id, work.customer_id)
    assert reason == "same mailbox name at another domain"
    assert score >= 88


async def test_unrelated_customers_are_not_candidates(desk: Desk) -> None:
    await desk.ingest(
        inbound("1", name="Jane Cooper", address="jane.cooper@acme.example"),
        inbound("2", name="Tom Baker", address="tom@bakerandsons.example"),
        inbound("3", name="Jane Doe", address="jdoe@example.org"),
        inbound("4", name="Priya Raman", address="priya.raman@northwind.example"),
        inbound("5", name=None, address="x9@example.net"),
        inbound("6", name="Jan", address="jan@example.net"),
    )
    assert await desk.count(Customer) == 6
    assert await candidates(desk) == []


async def test_shared_role_mailboxes_are_not_candidates(desk: Desk) -> None:
    """info@ at two companies is two companies, not one person."""
    await desk.ingest(
        inbound("1", name="Acme Sales", address="info@acme.example"),
        inbound("2", name="Globex", address="info@globex.example"),
        inbound("3", name=None, address="support@initech.example"),
        inbound("4", name=None, address="support@hooli.example"),
    )
    assert await candidates(desk) == []


async def test_candidates_are_recorded_once_per_new_customer(desk: Desk) -> None:
    [first] = await desk.ingest(inbound("1", name="Jane Cooper", address="jane@a.example"))
    [second] = await desk.ingest(inbound("2", name="Jane Cooper", address="jane@b.example"))
    await desk.ingest(inbound("3", name="Jane Cooper", address="jane@b.example"))
    [(new, old, score, _reason)] = await candidates(desk)
    assert (new, old, score) == (second.customer_id, first.customer_id, 100.0)


async def test_merged_customer_is_resolved_to_the_survivor(desk: Desk) -> None:
    [old] = await desk.ingest(inbound("1", name="Jane Cooper", address="jane@a.example"))
    [dup] = await desk.ingest(inbound("2", name="Jane Cooper", address="jane@b.example"))
    async with desk.db.writer() as session:
        merged = await session.get(Customer, dup.customer_id)
        assert merged is not None
        merged.merged_into_id = old.customer_id
        await session.commit()
    [later] = await desk.ingest(inbound("3", address="jane@b.example"))
    assert later.customer_id == old.customer_id
    # A newcomer is compared with the survivor only, not with the merged-away record.
    [newcomer] = await desk.ingest(inbound("4", name="Jane Cooper", address="jane@c.example"))
    found = [(new, o) for new, o, _s, _r in await candidates(desk) if new == newcomer.customer_id]
    assert found == [(newcomer.customer_id, old.customer_id)]

"""Merging two records of one customer: the agent chooses which record survives (by default the
one with more history), every identity, name, attribute, tag, consent and conversation is kept,
and undo puts back exactly what was there, the survivor included."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.core.consent import record_consent
from hub.core.customer_tags import set_tags
from hub.db.campaign_models import Consent, ConsentChange, ConsentSource, ConsentState
from hub.db.crm_models import CustomerTag
from hub.db.models import Conversation, Customer, Identity, Message, Role
from tests.support.agent_api import call, settled, start_conversation
from tests.support.desk import Desk

TABLES = (Customer, Identity, CustomerTag, Consent, ConsentChange, Conversation, Message)


async def snapshot(desk: Desk) -> dict[str, list[tuple[Any, ...]]]:
    state: dict[str, list[tuple[Any, ...]]] = {}
    async with desk.db.reader() as session:
        for model in TABLES:
            table = model.__table__  # type: ignore[attr-defined]
            rows = await session.execute(select(table).order_by(*table.primary_key.columns))
            state[table.name] = [tuple(row) for row in rows]
    return state


async def known_and_visitor(desk: Desk) -> tuple[int, int]:
    """Jane, known by email with two conversations, tags, attributes and consent; and an
    anonymous widget visitor (no name, one tag, a conflicting attribute)."""
    first = await start_conversation(desk.client, desk.hub, "o-1", "jane@example.com", "Hello")
    await start_conversation(desk.client, desk.hub, "o-2", "jane@example.com", "Me again")
    jane_id = first["customer_id"]
    now = desk.hub.clock.now()
    async with desk.db.writer() as session:
        jane = await session.get(Customer, jane_id)
        assert jane is not None
        jane.attributes = {"plan": "pro"}
        jane.consent = {"email": {"granted": True}}
        await set_tags(session, jane, ["vip"])
        email = await session.scalar(select(Identity).where(Identity.customer_id == jane_id))
        assert email is not None
        await record_consent(session, email.id, ConsentState.GRANTED, ConsentSource.FORM, now)
        visitor = Customer(
            name="",
            name_key="",
            tags=[],
            attributes={"plan": "free", "page": "/pricing"},
            consent={"widget": {"granted": False}},
            created_at=now,
        )
        session.add(visitor)
        await session.flush()
        await set_tags(session, visitor, ["chat"])
        session.add(
            Identity(customer_id=visitor.id, kind="widget", address="v-3f2a", created_at=now)
        )
        await session.commit()
    await settled(desk.hub)  # the acknowledgements are sent: nothing changes but the merge
    return jane_id, visitor.id


async def merge(desk: Desk, token: str, customer_id: int, **body: int) -> tuple[int, Any]:
    path = f"/api/v1/customers/{customer_id}/merge"
    return await call(desk.client, "POST", path, token, body)


async def undo(desk: Desk, token: str, merge_id: int) -> tuple[int, Any]:
    return await call(desk.client, "POST", f"/api/v1/customer-merges/{merge_id}/undo", token)


async def test_known_customer_survives_by_default_and_undo_restores_everything(
    desk: Desk,
) -> None:
    _, token = await desk.agent("sue@example.com", role=Role.SUPERVISOR)
    jane_id, visitor_id = await known_and_visitor(desk)
    before = await snapshot(desk)

    # the agent starts from the visitor's page: Jane still survives, she has the history
    status, merged = await merge(desk, token, visitor_id, other_id=jane_id)
    assert status == 200, merged
    assert (merged["survivor_id"], merged["absorbed_id"]) == (jane_id, visitor_id)

    status, profile = await call(desk.client, "GET", f"/api/v1/customers/{jane_id}/profile", token)
    assert status == 200, profile
    customer = profile
    assert customer["name"] == "Jane Cooper"
    assert sorted(customer["tags"]) == ["chat", "vip"]
    assert customer["attributes"] == {
        "plan": "pro",
        f"plan.from_{visitor_id}": "free",
        "page": "/pricing",
    }
    assert {i["address"] for i in profile["identities"]} == {"jane@example.com", "v-3f2a"}
    async with desk.db.reader() as session:
        stored = await session.get(Customer, jane_id)
        assert stored is not None
        assert stored.consent == {"email": {"granted": True}, "widget": {"granted": False}}
        rows = (
            await session.scalars(select(CustomerTag.tag).where(CustomerTag.customer_id == jane_id))
        ).all()
        assert sorted(rows) == ["chat", "vip"]
        conversations = (await session.scalars(select(Conversation.customer_id))).all()
        assert set(conversations) == {jane_id}

    status, undone = await undo(desk, token, merged["id"])
    assert status == 200, undone
    assert undone["undone_at"] is not None
    assert await snapshot(desk) == before
    status, _ = await undo(desk, token, merged["id"])
    assert status == 409


async def test_agent_chooses_the_survivor(desk: Desk) -> None:
    _, token = await desk.agent("sue@example.com", role=Role.SUPERVISOR)
    jane_id, visitor_id = await known_and_visitor(desk)
    before = await snapshot(desk)

    status, merged = await merge(desk, token, jane_id, other_id=visitor_id, survivor_id=visitor_id)
    assert status == 200, merged
    assert (merged["survivor_id"], merged["absorbed_id"]) == (visitor_id, jane_id)
    async with desk.db.reader() as session:
        visitor = await session.get(Customer, visitor_id)
        jane = await session.get(Customer, jane_id)
        assert visitor is not None and jane is not None
        assert visitor.name == "Jane Cooper"  # the survivor had no name: it takes Jane's
        assert jane.merged_into_id == visitor_id
        assert visitor.attributes["plan"] == "free"
        assert visitor.attributes[f"plan.from_{jane_id}"] == "pro"
        consent = await session.scalar(select(Consent))
        assert consent is not None and consent.customer_id == visitor_id

    status, _ = await undo(desk, token, merged["id"])
    assert status == 200
    assert await snapshot(desk) == before


async def test_survivor_must_be_one_of_the_two(desk: Desk) -> None:
    _, token = await desk.agent("sue@example.com", role=Role.SUPERVISOR)
    jane_id, visitor_id = await known_and_visitor(desk)
    before = await snapshot(desk)
    status, refused = await merge(desk, token, jane_id, other_id=visitor_id, survivor_id=999)
    assert status == 422, refused
    assert "survivor_id" in str(refused)
    status, refused = await merge(desk, token, jane_id, other_id=jane_id)
    assert status == 409
    assert await snapshot(desk) == before

"""GET /api/v1/customers/{id}: the customer with all identities, for those who may see them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.db.models import Identity, Role
from tests.support.agent_api import call, db_state, settled, start_conversation
from tests.support.desk import Desk


async def test_customer_with_identities(desk: Desk) -> None:
    _, alice = await desk.agent("alice@example.com", teams=("support",))
    started = await start_conversation(
        desk.client,
        desk.hub,
        "c-1",
        "Jane.Cooper@Example.COM",
        "Where is my parcel?",
        name="Jane Cooper",
    )
    customer_id = started["customer_id"]
    async with desk.hub.db.writer() as session:
        session.add(
            Identity(
                customer_id=customer_id,
                kind="telegram",
                address="777000",
                display_name="jane_c",
                created_at=datetime.now(UTC),
            )
        )
        await session.commit()

    status, customer = await call(desk.client, "GET", f"/api/v1/customers/{customer_id}", alice)

    assert status == 200
    assert customer["id"] == customer_id
    assert customer["name"] == "Jane Cooper"
    assert customer["last_contact_at"] is not None
    assert [
        (i["kind"], i["address"], i["display_name"], i["bouncing"]) for i in customer["identities"]
    ] == [
        ("email", "jane.cooper@example.com", "Jane Cooper", False),
        ("telegram", "777000", "jane_c", False),
    ]
    # A second message from the same address is the same customer.
    again = await start_conversation(
        desk.client, desk.hub, "c-2", "jane.cooper@example.com", "Any news?"
    )
    assert again["customer_id"] == customer_id


@pytest.mark.parametrize(
    ("role", "teams", "status"),
    [
        (Role.AGENT, ("support",), 200),
        (Role.AGENT, ("billing",), 404),
        (Role.SUPERVISOR, (), 200),
        (Role.ADMIN, (), 200),
        (Role.MARKETER, (), 200),
    ],
    ids=["agent of the team", "agent of another team", "supervisor", "admin", "marketer"],
)
async def test_who_may_see_a_customer(
    desk: Desk, role: Role, teams: tuple[str, ...], status: int
) -> None:
    _, token = await desk.agent("viewer@example.com", role=role, teams=teams, capacity=0)
    started = await start_conversation(
        desk.client, desk.hub, "c-1", "jane@example.com", "Where is my parcel?"
    )
    before = await settled(desk.hub)

    answered, body = await call(
        desk.client, "GET", f"/api/v1/customers/{started['customer_id']}", token
    )

    assert answered == status
    if status == 404:
        assert body["error"]["code"] == "not_found"
        assert f"customer {started['customer_id']}" in body["error"]["message"]
    assert await db_state(desk.hub) == before


@pytest.mark.parametrize("ident", ["999999", "abc", "%C2%B2", "99999999999", "0", "-1"])
async def test_unknown_customer_is_404(desk: Desk, ident: str) -> None:
    _, token = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    status, body = await call(desk.client, "GET", f"/api/v1/customers/{ident}", token)
    assert status == 404
    assert body["error"]["code"] == "not_found"

"""Editing a profile: supervisors and admins change tier, tags, attributes and notes, and every
changed field shows in the profile's audit trail (who, when, old -> new); agents and marketers
read and are refused with a clear 403; a bad value is a 422 naming the field and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.db.crm_models import CustomerChange
from hub.db.models import Role
from tests.support.agent_api import call
from tests.support.crm import seed_conversation, seed_customer
from tests.support.desk import Desk


async def test_supervisor_edit_is_audited(desk: Desk) -> None:
    sue_id, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    customer = await seed_customer(
        desk.hub, "Jane Cooper", tags=["new"], attributes={"plan": "basic", "seats": 3}
    )
    change = {
        "tier": "gold",
        "tags": ["VIP", "new", " vip "],
        "attributes": {"plan": "pro", "seats": None, "renewal": "2027-01"},
        "notes": "Prefers email.",
    }

    status, body = await call(desk.client, "PATCH", f"/api/v1/customers/{customer}", sue, change)

    assert status == 200, body
    assert body["tier"] == "gold"
    assert body["tags"] == ["vip", "new"]
    assert body["attributes"] == {"plan": "pro", "renewal": "2027-01"}
    status, profile = await call(desk.client, "GET", f"/api/v1/customers/{customer}/profile", sue)
    assert status == 200 and profile["editable"] is True
    trail = {(c["field"], c["old_value"], c["new_value"], c["by"]) for c in profile["changes"]}
    assert trail == {
        ("tier", "standard", "gold", "Sue"),
        ("tags", "new", "vip, new", "Sue"),
        ("attribute.plan", "basic", "pro", "Sue"),
        ("attribute.seats", "3", "", "Sue"),
        ("attribute.renewal", "", "2027-01", "Sue"),
        ("notes", "", "Prefers email.", "Sue"),
    }
    assert {c["agent_id"] for c in profile["changes"]} == {sue_id}
    # The tag is found in the directory at once.
    status, page = await call(desk.client, "GET", "/api/v1/customers?tag=vip", sue)
    assert [item["id"] for item in page["items"]] == [customer]

    # Saving the same values again audits nothing.
    again = await call(desk.client, "PATCH", f"/api/v1/customers/{customer}", sue, {"tier": "gold"})
    assert again[0] == 200
    assert await desk.count(CustomerChange) == 6


@pytest.mark.parametrize("role", [Role.AGENT, Role.MARKETER])
async def test_agents_and_marketers_read_but_may_not_edit(desk: Desk, role: Role) -> None:
    _, reader = await desk.agent("ann@example.com", role=role, teams=("support",))
    customer = await seed_customer(desk.hub, "Jane Cooper")
    await seed_conversation(desk.hub, customer, datetime.now(UTC), team="support")

    status, profile = await call(
        desk.client, "GET", f"/api/v1/customers/{customer}/profile", reader
    )
    assert status == 200 and profile["editable"] is False

    status, body = await call(
        desk.client, "PATCH", f"/api/v1/customers/{customer}", reader, {"tier": "gold"}
    )
    assert status == 403
    assert body["error"]["message"] == (
        "your role may not edit customer profiles (agents read them; ask a supervisor or admin)"
    )
    assert await desk.count(CustomerChange) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tier": "diamond"}, "tier"),
        ({"tags": ["ok", "not/ok"]}, "tags"),
        ({"attributes": {"bad key!": "x"}}, "attributes.bad key!"),
        ({"attributes": {"list": [1]}}, "attributes"),
        ({"notes": 5}, "notes"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_values_are_refused_naming_the_field(
    desk: Desk, change: dict[str, object], field: str
) -> None:
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    customer = await seed_customer(desk.hub, "Jane Cooper")
    status, body = await call(desk.client, "PATCH", f"/api/v1/customers/{customer}", sue, change)
    assert status == 422, body
    assert field in body["error"]["fields"]
    assert await desk.count(CustomerChange) == 0


async def test_unknown_customer_is_404(desk: Desk) -> None:
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    status, body = await call(desk.client, "PATCH", "/api/v1/customers/999", sue, {"tier": "gold"})
    assert status == 404
    status, body = await call(desk.client, "GET", "/api/v1/customers/999/profile", sue)
    assert status == 404 and body["error"]["code"] == "not_found"

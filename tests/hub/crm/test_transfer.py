"""Customers in and out as CSV: the filtered directory exports as a file that imports back
unchanged; an import creates and updates customers with their addresses, tier, tags and
attributes, audits its changes, and refuses a file with a bad row as a whole, naming the row and
the column, with nothing imported."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from hub.db.crm_models import CustomerChange
from hub.db.models import Customer, Identity, Role
from tests.support.agent_api import db_state
from tests.support.crm import seed_conversation, seed_customer
from tests.support.desk import Desk, auth


async def export(desk: Desk, token: str, query: str = "") -> list[dict[str, str]]:
    response = await desk.client.get(f"/api/v1/customers.csv?{query}", headers=auth(token))
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(await response.text())))


async def upload(desk: Desk, token: str, text: str, query: str = "") -> tuple[int, Any]:
    response = await desk.client.post(
        f"/api/v1/customers/import?{query}",
        data=text.encode(),
        headers=auth(token) | {"Content-Type": "text/csv"},
    )
    return response.status, await response.json()


async def test_csv_round_trip(desk: Desk) -> None:
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    await seed_customer(
        desk.hub,
        "Jane Cooper",
        company="=Acme",
        tier="gold",
        tags=["vip", "rockets"],
        emails=["jane@example.com", "jane@work.example"],
        phones=["+441632960001"],
        attributes={"plan": "pro", "seats": 12},
    )
    await seed_customer(desk.hub, "John Carter", emails=["john@example.com"])

    rows = await export(desk, sue)
    assert [r["name"] for r in rows] == ["Jane Cooper", "John Carter"]
    jane = rows[0]
    assert jane["email"] == "jane@example.com; jane@work.example"
    assert jane["phone"] == "+441632960001"
    assert jane["tags"] == "vip; rockets"
    assert jane["company"] == "'=Acme"  # never a formula in a spreadsheet
    assert await export(desk, sue, "tag=vip") == [jane]

    # The export imports back as it is: every row updates its customer, nothing changes.
    before = await db_state(desk.hub)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    status, report = await upload(desk, sue, out.getvalue())
    assert (status, report) == (200, {"created": 0, "updated": 2, "dry_run": False})
    assert await db_state(desk.hub) == before
    assert await desk.count(CustomerChange) == 0


async def test_import_creates_and_updates(desk: Desk) -> None:
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    jane = await seed_customer(desk.hub, "Jane Cooper", emails=["jane@example.com"])
    text = (
        "name,email,phone,tier,tags,attribute.plan,timezone\n"
        "Jane C.,JANE@example.com,,platinum,vip,enterprise,\n"
        "Ada Lovelace,ada@example.com,+44 1632 960 002,gold,math; vip,,Europe/London\n"
    )
    status, report = await upload(desk, sue, text, "dry_run=true")
    assert (status, report) == (200, {"created": 1, "updated": 1, "dry_run": True})
    assert await desk.count(Customer) == 1

    status, report = await upload(desk, sue, text)
    assert (status, report) == (200, {"created": 1, "updated": 1, "dry_run": False})
    async with desk.hub.db.reader() as session:
        updated = await session.get(Customer, jane)
        assert updated is not None
        assert (updated.name, updated.tier, updated.tags) == ("Jane C.", "platinum", ["vip"])
        assert updated.attributes == {"plan": "enterprise"}
        ada = await session.scalar(select(Customer).where(Customer.name == "Ada Lovelace"))
        assert ada is not None and ada.timezone == "Europe/London" and ada.tags == ["math", "vip"]
        addresses = set(
            (
                await session.execute(
                    select(Identity.kind, Identity.address).where(Identity.customer_id == ada.id)
                )
            ).all()
        )
        assert addresses == {("email", "ada@example.com"), ("phone", "+441632960002")}
        fields = set(
            (
                await session.scalars(
                    select(CustomerChange.field).where(CustomerChange.customer_id == jane)
                )
            ).all()
        )
    assert fields == {"name", "tier", "tags", "attribute.plan"}
    response = await desk.client.get("/api/v1/customers?tag=vip", headers=auth(sue))
    assert len((await response.json())["items"]) == 2


async def test_a_bad_row_imports_nothing_and_is_named(desk: Desk) -> None:
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    await seed_customer(desk.hub, "Jane Cooper", emails=["jane@example.com"])
    await seed_customer(desk.hub, "John Carter", emails=["john@example.com"])
    before = await db_state(desk.hub)
    text = (
        "id,name,email,tier,attributes\n"
        ",Ada Lovelace,ada@example.com,gold,\n"
        ",Bad Mail,not-an-address,,\n"
        ",Grace Hopper,grace@example.com,diamond,\n"
        '1,Jane Cooper,john@example.com,,"{""plan"": [1]}"\n'
        ",Ada Again,ada@example.com,,\n"
        "77,Ghost,,,\n"
    )

    status, body = await upload(desk, sue, text)

    assert status == 422
    assert body["error"]["code"] == "import_refused"
    assert body["error"]["message"].startswith("Nothing was imported: 5 row(s) have problems")
    assert body["error"]["fields"] == {
        "row 3: email": "'not-an-address' is not an email address",
        "row 4: tier": "must be one of: standard, silver, gold, platinum",
        "row 5: email": "john@example.com belongs to customer 2",
        "row 5: attributes.plan": "attribute values are text, numbers, true/false or empty",
        "row 6: email": "ada@example.com is also in row 2",
        "row 7: id": "no customer 77",
    }
    assert await db_state(desk.hub) == before
    assert await desk.count(CustomerChange) == 0


async def test_unreadable_files_and_roles(desk: Desk) -> None:
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    _, alice = await desk.agent("alice@example.com")
    status, body = await upload(desk, alice, "name\nAda\n")
    assert status == 403
    assert "import customers" in body["error"]["message"]
    status, body = await upload(desk, sue, "colour,name\nred,Ada\n")
    assert status == 400 and body["error"]["fields"] == {"file": "unknown column 'colour'"}
    status, body = await upload(desk, sue, "")
    assert status == 400 and body["error"]["code"] == "bad_csv"
    response = await desk.client.post(
        "/api/v1/customers/import", data=b"name\n\xff\xfe\n", headers=auth(sue)
    )
    assert response.status == 400
    assert (await response.json())["error"]["fields"] == {"file": "it is not UTF-8 text"}
    assert await desk.count(Customer) == 0


async def test_agents_export_only_the_customers_they_may_see(desk: Desk) -> None:
    _, alice = await desk.agent("alice@example.com", teams=("support",))
    await desk.agent("bob@example.com", teams=("billing",))
    jane = await seed_customer(desk.hub, "Jane Cooper", emails=["jane@example.com"])
    john = await seed_customer(desk.hub, "John Carter", emails=["john@example.com"])
    await seed_conversation(desk.hub, jane, datetime.now(UTC), team="support")
    await seed_conversation(desk.hub, john, datetime.now(UTC), team="billing")

    assert [r["name"] for r in await export(desk, alice)] == ["Jane Cooper"]

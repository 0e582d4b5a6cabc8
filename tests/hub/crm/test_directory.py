"""The customer directory through the API: a prefix of a name, email, phone, handle, company or
tag finds the customer; filters by tier, tag, last contact and open tickets narrow the list;
pages follow one another; agents see only the customers of conversations they may see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from hub.db.crm_models import CustomerTag
from hub.db.models import Customer, Role
from tests.support.agent_api import call
from tests.support.crm import seed_conversation, seed_customer
from tests.support.desk import Desk

NOW = datetime.now(UTC)


async def names(desk: Desk, token: str, query: str) -> list[str]:
    status, page = await call(desk.client, "GET", f"/api/v1/customers?{query}", token)
    assert status == 200, page
    return [item["name"] for item in page["items"]]


async def _people(desk: Desk) -> dict[str, int]:
    return {
        "jane": await seed_customer(
            desk.hub,
            "Jane Cooper",
            company="Acme Rockets",
            tier="gold",
            tags=["vip", "rockets"],
            emails=["jane.cooper@example.com"],
            phones=["+441632960001"],
            last_contact=NOW - timedelta(days=2),
        ),
        "john": await seed_customer(
            desk.hub,
            "John Carter",
            company="Barsoom Ltd",
            emails=["jc@barsoom.example"],
            telegram=[("777001", "warlord_john")],
            last_contact=NOW - timedelta(days=60),
        ),
        "zoe": await seed_customer(
            desk.hub,
            "Zoë Washburne",
            company="Serenity Freight",
            tags=["pilot"],
            emails=["zoe@serenity.example"],
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=jan", ["Jane Cooper"]),
        ("q=JOHN%20CA&by=name", ["John Carter"]),
        ("q=zoe", ["Zoë Washburne"]),  # accents folded, as names are keyed
        ("q=jane.coo&by=email", ["Jane Cooper"]),
        ("q=jc@barsoom", ["John Carter"]),
        ("q=%2B44%201632%20960&by=phone", ["Jane Cooper"]),
        ("q=01632-96", []),  # a phone prefix starts at the country code
        ("q=441632", ["Jane Cooper"]),
        ("q=@warlord", ["John Carter"]),
        ("q=777&by=handle", ["John Carter"]),
        ("q=serenity&by=company", ["Zoë Washburne"]),
        ("q=acme%20r", ["Jane Cooper"]),
        ("q=pilot", ["Zoë Washburne"]),
        ("q=rock&by=tag", ["Jane Cooper"]),
        ("q=nobody", []),
        ("", ["Jane Cooper", "John Carter", "Zoë Washburne"]),
    ],
)
async def test_search_by_each_key(desk: Desk, query: str, expected: list[str]) -> None:
    await _people(desk)
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    assert await names(desk, sue, query) == expected


async def test_filters_and_sorting(desk: Desk) -> None:
    people = await _people(desk)
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    await seed_conversation(desk.hub, people["john"], NOW - timedelta(days=60), ticket="open")
    await seed_conversation(desk.hub, people["jane"], NOW - timedelta(days=2), ticket="solved")

    assert await names(desk, sue, "tier=gold") == ["Jane Cooper"]
    assert await names(desk, sue, "tag=VIP") == ["Jane Cooper"]
    assert await names(desk, sue, "contact=7d") == ["Jane Cooper"]
    assert await names(desk, sue, "contact=silent_30d") == ["John Carter"]
    assert await names(desk, sue, "contact=never") == ["Zoë Washburne"]
    assert await names(desk, sue, "open_tickets=some") == ["John Carter"]
    assert await names(desk, sue, "open_tickets=none") == ["Jane Cooper", "Zoë Washburne"]
    assert await names(desk, sue, "sort=-last_contact") == [
        "Jane Cooper",
        "John Carter",
        "Zoë Washburne",  # never contacted: last
    ]
    assert await names(desk, sue, "sort=-name") == ["Zoë Washburne", "John Carter", "Jane Cooper"]
    assert await names(desk, sue, "sort=company") == ["Jane Cooper", "John Carter", "Zoë Washburne"]
    status, page = await call(desk.client, "GET", "/api/v1/customers?open_tickets=some", sue)
    assert status == 200
    assert page["items"][0]["open_tickets"] == 1
    assert page["items"][0]["email"] == "jc@barsoom.example"


async def test_pages_follow_one_another(desk: Desk) -> None:
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    for n in range(7):
        await seed_customer(desk.hub, f"Customer {n:02d}", emails=[f"c{n}@example.com"])
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        status, page = await call(
            desk.client, "GET", f"/api/v1/customers?limit=3&offset={offset}", sue
        )
        assert status == 200 and page["total"] == 7 and page["more"] is False
        seen += [item["name"] for item in page["items"]]
        offset = page["next_offset"]
    assert seen == [f"Customer {n:02d}" for n in range(7)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("by=shoe", "by"),
        ("sort=age", "sort"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("contact=1d", "contact"),
    ],
)
async def test_bad_query_is_400_naming_it(desk: Desk, query: str, field: str) -> None:
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    status, body = await call(desk.client, "GET", f"/api/v1/customers?{query}", sue)
    assert status == 400
    assert list(body["error"]["fields"]) == [field]


async def test_agents_see_the_customers_of_their_conversations(desk: Desk) -> None:
    people = await _people(desk)
    _, alice = await desk.agent("alice@example.com", teams=("support",))
    _, bob = await desk.agent("bob@example.com", teams=("billing",))
    _, mark = await desk.agent("mark@example.com", role=Role.MARKETER, teams=())
    await seed_conversation(desk.hub, people["jane"], NOW, team="support")
    await seed_conversation(desk.hub, people["john"], NOW, team="billing")

    assert await names(desk, alice, "") == ["Jane Cooper"]
    assert await names(desk, bob, "") == ["John Carter"]
    assert await names(desk, bob, "q=jane") == []
    assert await names(desk, mark, "") == ["Jane Cooper", "John Carter", "Zoë Washburne"]
    status, _body = await call(desk.client, "GET", "/api/v1/customers", None)
    assert status == 401


async def test_merged_customers_are_not_listed(desk: Desk) -> None:
    people: dict[str, Any] = await _people(desk)
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    async with desk.hub.db.writer() as session:
        zoe = await session.get(Customer, people["zoe"])
        assert zoe is not None
        zoe.merged_into_id = people["jane"]
        await session.commit()
    assert await names(desk, sue, "") == ["Jane Cooper", "John Carter"]


async def test_a_common_tag_pages_in_order(desk: Desk) -> None:
    """Over a thousand customers with one tag: the page is the first in name order, the count
    stops at a thousand, and the second page follows the first."""
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    async with desk.hub.db.writer() as session:
        rows = [
            {
                "name": f"Member {n:04d}", "name_key": f"member {n:04d}", "company": "",
                "tier": "gold" if n % 2 else "standard", "tags": ["common"], "attributes": {},
                "locale": "en", "timezone": "UTC", "consent": {}, "notes": "",
                "created_at": NOW, "last_contact_at": NOW - timedelta(minutes=n),
            }
            for n in range(1100)
        ]  # fmt: skip
        await session.execute(insert(Customer), rows)
        ids = (await session.scalars(select(Customer.id))).all()
        await session.execute(
            insert(CustomerTag), [{"customer_id": i, "tag": "common"} for i in ids]
        )
        await session.commit()
    await seed_customer(desk.hub, "Aaron Untagged")

    status, first = await call(desk.client, "GET", "/api/v1/customers?tag=common&limit=3", sue)
    assert status == 200
    assert [i["name"] for i in first["items"]] == ["Member 0000", "Member 0001", "Member 0002"]
    assert (first["total"], first["more"], first["next_offset"]) == (1000, True, 3)
    second = await names(desk, sue, "q=comm&by=tag&limit=3&offset=3")
    assert second == ["Member 0003", "Member 0004", "Member 0005"]
    recent = await names(desk, sue, "tag=common&tier=gold&sort=-last_contact&limit=2")
    assert recent == ["Member 0001", "Member 0003"]

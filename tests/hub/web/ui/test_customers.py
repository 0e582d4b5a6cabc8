"""The customer pages: the directory with search, filters, sorting, export and import; a profile
read by an agent (read-only, a 403 page on edit) and edited by a supervisor (the change in the
audit trail); the insight lists saved as segments; the profile link on a conversation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import aiohttp
from sqlalchemy import func, select

from hub.db.campaign_models import Segment
from hub.db.models import Customer, Role
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.crm import seed_conversation, seed_customer
from tests.support.desk import Desk

NOW = datetime.now(UTC)


async def test_directory_search_sort_and_export(desk: Desk, ui_agent: UiFactory) -> None:
    boss = await ui_agent("boss@example.com", role=Role.SUPERVISOR)
    await seed_customer(
        desk.hub, "Jane Cooper", company="Acme", tags=["vip"], emails=["jane@example.com"]
    )
    await seed_customer(desk.hub, "John Carter", company="Barsoom", emails=["john@example.com"])

    page = await boss.page("/ui/customers")
    assert "2 customers" in page and "Jane Cooper" in page and "John Carter" in page
    page = await boss.page("/ui/customers?q=jane%40ex")
    assert "1 customer<" in page and "Jane Cooper" in page and "John Carter" not in page
    page = await boss.page("/ui/customers?sort=-name")
    assert page.index("John Carter") < page.index("Jane Cooper")
    assert 'aria-sort="descending"' in page
    bad = await boss.get("/ui/customers?sort=age")
    assert bad.status == 400 and "sort" in await bad.text()

    export = await boss.get("/ui/customers/export.csv?tag=vip")
    assert export.status == 200
    rows = list(csv.DictReader(io.StringIO(await export.text())))
    assert [r["name"] for r in rows] == ["Jane Cooper"]


async def test_import_page_reports_rows_and_imports_nothing(
    desk: Desk, ui_agent: UiFactory
) -> None:
    boss = await ui_agent("boss@example.com", role=Role.SUPERVISOR)
    agent = await ui_agent("alice@example.com")

    def form(text: str) -> aiohttp.FormData:
        data = aiohttp.FormData()
        data.add_field("csrf_token", boss.token)
        data.add_field("file", text.encode(), filename="people.csv", content_type="text/csv")
        return data

    await boss.get("/ui/customers/import")
    bad = "name,email,tier\nAda,ada@example.com,gold\nBob,bob@,gold\n"
    response = await boss.http.post("/ui/customers/import", data=form(bad))
    assert response.status == 422
    text = await response.text()
    assert "Nothing was imported: 1 row(s) have problems" in text
    assert "<td>3</td><td>email</td><td>&#39;bob@&#39; is not an email address</td>" in text
    assert await desk.count(Customer) == 0

    good = "name,email,tier\nAda,ada@example.com,gold\n"
    response = await boss.http.post("/ui/customers/import", data=form(good), allow_redirects=False)
    assert response.status == 303
    page = await boss.page(response.headers["Location"])
    assert "Imported 1 new and 0 updated customers." in page and "Ada" in page

    assert (await agent.get("/ui/customers/import")).status == 403


async def test_agent_reads_supervisor_edits_with_audit(desk: Desk, ui_agent: UiFactory) -> None:
    alice = await ui_agent("alice@example.com")
    boss = await ui_agent("boss@example.com", role=Role.SUPERVISOR)
    conversation_id = (
        await inbound(desk, "Where is my parcel?", name="Jane Cooper")
    ).conversation_id
    conversation = await desk.conversation(conversation_id)
    customer = conversation.customer_id

    page = await alice.page(f"/ui/conversations/{conversation_id}")
    assert f'href="/ui/customers/{customer}"' in page
    profile = await alice.page(f"/ui/customers/{customer}")
    assert "Jane Cooper" in profile and "Where is my parcel?" in profile
    assert "read-only for your role" in profile and 'name="tags"' not in profile
    refused = await alice.post(f"/ui/customers/{customer}", {"tier": "gold", "tags": "vip"})
    assert refused.status == 403
    assert "Your role may not edit customer profiles" in await refused.text()

    saved = await boss.post(
        f"/ui/customers/{customer}",
        {"tier": "gold", "tags": "vip, Late Delivery", "company": "Acme", "notes": "Call first"},
    )
    assert saved.status == 303
    profile = await boss.page(saved.headers["Location"])
    assert "Customer profile saved." in profile
    assert "<td>Boss</td><td>tags</td><td></td><td>vip, late delivery</td>" in profile
    assert "<td>Boss</td><td>tier</td><td>standard</td><td>gold</td>" in profile
    attribute = await boss.post(
        f"/ui/customers/{customer}/attributes", {"key": "plan", "value": "pro"}
    )
    assert attribute.status == 303
    assert "<td>attribute.plan</td><td></td><td>pro</td>" in await boss.page(
        f"/ui/customers/{customer}"
    )
    bad = await boss.post(f"/ui/customers/{customer}", {"tier": "diamond", "tags": ""})
    assert bad.status == 422
    shown = await bad.text()
    assert "Tier: must be one of: standard, silver, gold, platinum" in shown
    assert "Jane Cooper" in shown  # the profile stays in view beside the error


async def test_insight_page_saves_a_segment(desk: Desk, ui_agent: UiFactory) -> None:
    mark = await ui_agent("mark@example.com", role=Role.MARKETER, teams=())
    alice = await ui_agent("alice@example.com")
    ann = await seed_customer(desk.hub, "Ann Active")
    for _ in range(3):
        await seed_conversation(desk.hub, ann, NOW, ticket=None)

    assert "Most active customers" in await mark.page("/ui/customers/insights")
    page = await mark.page("/ui/customers/insights/most-active")
    assert "Ann Active" in page
    saved = await mark.post("/ui/customers/insights/most-active/segment", {"name": "Fans"})
    assert saved.status == 303
    assert "Saved as segment “Fans”" in await mark.page(saved.headers["Location"])
    async with desk.hub.db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Segment)) == 1
    assert (await alice.get("/ui/customers/insights")).status == 403
    assert (await mark.get("/ui/customers/insights/nope")).status == 404

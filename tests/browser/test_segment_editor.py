"""A marketer builds a two-condition segment in a real browser on a 390 px wide screen: the live
count follows each edit, an unfinished condition is marked on its own row, and saving keeps
what the rows say."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

from playwright.async_api import Browser, expect
from sqlalchemy import select

from hub.core.consent import record_consent
from hub.core.customer_tags import set_tags
from hub.db.campaign_models import ConsentSource, ConsentState, Segment
from hub.db.models import Customer, Identity, Role
from tests.browser.conftest import artifact, signed_in_page
from tests.support.desk import Desk

LIMIT_SECONDS = 90


async def seed(desk: Desk) -> None:
    now = datetime.now(UTC)
    people = [
        ("Ana Lima", ["vip"], ("email", "ana@example.com")),
        ("Bo Chen", ["vip"], ("telegram", "4242")),
        ("Cy Dube", [], ("email", "cy@example.com")),
    ]
    async with desk.db.writer() as session:
        for name, tags, (kind, address) in people:
            customer = Customer(
                name=name, name_key=name.lower(), tags=tags, attributes={}, created_at=now
            )
            session.add(customer)
            await session.flush()
            await set_tags(session, customer, tags)
            identity = Identity(customer_id=customer.id, kind=kind, address=address, created_at=now)
            session.add(identity)
            await session.flush()
            await record_consent(
                session, identity.id, ConsentState.GRANTED, ConsentSource.FORM, now
            )
        await session.commit()


async def test_marketer_builds_a_two_condition_segment_with_a_live_count(
    desk: Desk, browser: Browser
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        await seed(desk)
        page = await signed_in_page(desk, browser, "mia@example.com", role=Role.MARKETER, teams=())
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto("/ui/segments/new")
        count = page.locator("#live-count")
        # the editor starts with one condition: tag has "vip" (Ana and Bo)
        await expect(page.locator('[data-path="all[0]"]')).to_be_visible()
        await expect(count).to_have_text("2")

        await page.fill("#name", "VIPs reachable by email")
        await page.get_by_role("button", name="+ Condition", exact=True).click()
        second = page.locator('[data-path="all[1]"]')
        # an empty tag is not a condition yet: the row says so
        await expect(second).to_have_attribute("aria-invalid", "true")
        await expect(second.locator(".field-error")).to_contain_text("must be a non-empty text")

        await second.get_by_label("Condition 2 field").select_option("consent")
        await expect(count).to_have_text("2")  # consent on any channel: Ana and Bo
        await second.get_by_label("Condition 2 value").select_option("email")
        await expect(count).to_have_text("1")
        await expect(page.locator("#sample-rows tr")).to_have_count(1)
        await expect(page.locator("#sample-rows")).to_contain_text("ana@example.com")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the editor is {width} px wide at 390 px"
        await page.screenshot(path=artifact("segment-editor-390.png"), full_page=True)

        await page.get_by_role("button", name="Save segment").click()
        # the saved segment's page (its notice leaves the address bar once shown)
        await page.wait_for_url(re.compile(r"/ui/segments/\d+"))
        await expect(page.locator("#import-title")).to_be_visible()
        await expect(page.locator("#live-count")).to_have_text("1")

        # a CSV with a bad row: nothing imported, the row and column are listed
        await page.set_input_files(
            "#file",
            {
                "name": "leads.csv",
                "mimeType": "text/csv",
                "buffer": b"name,email,tags\nDee,dee@example.com,vip\nEd,ed@example,vip\n",
            },
        )
        await page.get_by_role("button", name="Import").click()
        problems = page.locator("#import-result table tbody tr")
        await expect(problems).to_have_count(1)
        await expect(problems).to_contain_text("3")
        await expect(problems).to_contain_text("'ed@example' is not an email address")
        await page.set_input_files(
            "#file",
            {
                "name": "leads.csv",
                "mimeType": "text/csv",
                "buffer": b"name,email,tags\nDee,dee@example.com,vip\n",
            },
        )
        await page.get_by_role("button", name="Import").click()
        await expect(page.locator("#import-result")).to_contain_text("Imported 1 rows: 1 new")
        await expect(page.locator("#live-count")).to_have_text("2")  # VIP with email, or imported

        await page.goto("/ui/segments")
        await expect(page.locator("td[data-count]")).to_have_text("2")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the list is {width} px wide at 390 px"
        await page.screenshot(path=artifact("segments-list-390.png"), full_page=True)
    async with desk.db.reader() as session:
        saved = await session.scalar(select(Segment))
    assert saved is not None and saved.name == "VIPs reachable by email"
    built = {
        "all": [
            {"field": "tag", "op": "has", "value": "vip"},
            {"field": "consent", "op": "has", "value": "email"},
        ]
    }
    # the import added "or imported into this segment" to what the rows built
    assert saved.definition == {
        "any": [built, {"field": "segment", "op": "in", "value": [saved.id]}]
    }

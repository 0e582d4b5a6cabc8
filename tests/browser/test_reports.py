"""The report page in a real browser, as a supervisor on a phone-sized screen: the first
response figure and its chart are there, the filters work from the keyboard, and a histogram
bar leads to the conversation behind it."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, expect

from hub.db.models import Role
from tests.browser.conftest import artifact, signed_in_page
from tests.support.desk import MakeDesk, auth
from tests.support.poll import eventually

LIMIT_SECONDS = 120


async def test_report_page_shows_a_chart_and_figures(make_desk: MakeDesk, browser: Browser) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        desk = await make_desk(memory=("api", "mail"))
        _, token = await desk.agent("ann@example.com")
        opened = await desk.customer_writes("Where is my parcel?", channel="api")
        cid = opened.conversation_id
        reply = await desk.client.post(
            f"/api/v1/conversations/{cid}/messages",
            json={"text": "On its way"},
            headers=auth(token),
        )
        assert reply.status == 201
        _, boss_token = await desk.agent("boss@example.com", role=Role.SUPERVISOR, capacity=0)

        async def answered() -> bool:
            times = await desk.client.get(
                "/api/v1/reports/response-times", headers=auth(boss_token)
            )
            items = (await times.json())["items"]
            return bool(items[0]["count"] == 1)

        await eventually(answered, what="the delivered reply counted")
        page = await signed_in_page(desk, browser, "sam@example.com", role=Role.SUPERVISOR)
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto("/ui/reports")
        await expect(page.locator("h1")).to_have_text("Reports")
        figure = page.locator('[data-figure="first_response-median"]')
        await expect(figure).to_be_visible()
        await expect(figure).not_to_have_text("-")
        chart = page.locator("svg.chart").first
        await expect(chart).to_be_visible()
        box = await chart.bounding_box()
        assert box is not None and box["width"] <= 390
        wide = await page.evaluate(
            "document.querySelector('main.reports').scrollWidth"
            " <= document.querySelector('main.reports').clientWidth + 1"
        )
        assert wide, "the report page scrolls sideways at 390 px"
        await page.screenshot(path=artifact("reports-390.png"), full_page=True)

        await page.locator("select[name=channel]").focus()
        await page.keyboard.press("Tab")  # to the team filter
        await page.locator("button", has_text="Show").focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/ui/reports?start=*")
        first_bar = page.locator("svg.chart a").first
        await expect(first_bar).to_have_count(1)
        await first_bar.focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/ui/reports/conversations?*")
        await expect(page.locator("#drill")).to_contain_text(f"#{cid}")

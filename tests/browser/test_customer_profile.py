"""Customer profiles in a real browser: an agent opens the profile from a conversation and
finds it read-only; a supervisor adds a tag and sees the change in the audit trail; the profile
and the directory work at 390 px wide. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, expect

from hub.db.models import Role
from tests.browser.conftest import artifact, signed_in_page
from tests.support.desk import Desk
from tests.support.forms import submit

LIMIT_SECONDS = 120
# What sticks out past a 390 px viewport, to name it when the page is too wide.
WIDEST = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391 && !e.closest('.crm-scroll'))
  .map(e => e.tagName + '.' + e.className).slice(0, 10)"""


async def test_agent_opens_profile_supervisor_edits_tag(desk: Desk, browser: Browser) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        status, _ = await submit(
            desk.client,
            {
                "name": "Jane Cooper",
                "email": "jane@example.com",
                "subject": "Parcel late",
                "message": "Where is my parcel?",
            },
        )
        assert status == 200
        [conversation] = await desk.conversations()

        agent = await signed_in_page(desk, browser, "alice@example.com")
        await agent.goto(f"/ui/conversations/{conversation.id}")
        await agent.get_by_test_id("customer-profile").click()
        await agent.wait_for_url(f"**/ui/customers/{conversation.customer_id}")
        await expect(agent.locator("h1")).to_have_text("Jane Cooper")
        await expect(agent.locator(".crm-timeline")).to_contain_text("Parcel late")
        await expect(agent.locator("text=read-only for your role")).to_be_visible()
        assert await agent.locator("#p-tags").count() == 0

        boss = await signed_in_page(
            desk, browser, "boss@example.com", role=Role.SUPERVISOR, teams=()
        )
        await boss.goto("/ui/customers")
        await boss.fill("#c-q", "jane@ex")
        await boss.keyboard.press("Enter")
        await boss.get_by_role("link", name="Jane Cooper").click()
        await boss.wait_for_url(f"**/ui/customers/{conversation.customer_id}")
        await boss.fill("#p-tags", "vip, late delivery")
        await boss.get_by_role("button", name="Save").click()
        await expect(boss.locator(".toast")).to_have_text("Customer profile saved.")
        await expect(boss.get_by_test_id("tags")).to_contain_text("late delivery")
        audit = boss.get_by_test_id("audit")
        await expect(audit).to_contain_text("Boss")
        await expect(audit.locator("tr", has_text="tags")).to_contain_text("vip, late delivery")

        await boss.set_viewport_size({"width": 390, "height": 844})
        await boss.reload()
        width = await boss.evaluate("document.documentElement.scrollWidth")
        wide = await boss.evaluate(WIDEST)
        assert width <= 390, f"the profile is {width} px wide at 390 px: {wide}"
        await boss.screenshot(path=artifact("customer-profile-390.png"), full_page=True)
        await boss.goto("/ui/customers")
        width = await boss.evaluate("document.documentElement.scrollWidth")
        wide = await boss.evaluate(WIDEST)
        assert width <= 390, f"the directory is {width} px wide at 390 px: {wide}"
        await boss.screenshot(path=artifact("customers-390.png"), full_page=True)

        await agent.reload()
        await expect(agent.get_by_test_id("tags")).to_contain_text("vip")

"""An agent on a 390 px wide phone (844 px tall): sign in, the inbox list fits the screen with
nothing to scroll sideways, a conversation opens with its messages and a composer they can reach
and send from, and a back link returns to the list."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, Page, expect

from hub.db.models import Presence, Role
from hub.demo import seed_everything
from tests.browser.axe import assert_accessible
from tests.browser.conftest import PASSWORD, STEP_MS, artifact
from tests.support.desk import Desk

LIMIT_SECONDS = 180
PHONE = {"width": 390, "height": 844}


async def no_sideways_scroll(page: Page, where: str) -> None:
    widths = await page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth]"
    )
    wide = await page.evaluate(
        """(limit) => [...document.querySelectorAll("body *")]
          .filter((e) => e.getBoundingClientRect().right > limit + 1)
          .slice(0, 8).map((e) => e.tagName + "." + e.className + " " +
                           Math.round(e.getBoundingClientRect().right))""",
        PHONE["width"],
    )
    assert max(widths) <= PHONE["width"], f"{where} scrolls sideways: {widths} {wide}"


async def test_an_agent_works_the_inbox_on_a_phone(desk: Desk, browser: Browser) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        await seed_everything(desk.hub.settings, desk.hub.clock.now())
        await desk.agent(
            "pat@example.com",
            role=Role.SUPERVISOR,
            teams=("support", "billing"),
            presence=Presence.OFFLINE,
            password=PASSWORD,
        )
        context = await browser.new_context(
            base_url=str(desk.client.make_url("/")).rstrip("/"),
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
        )
        page = await context.new_page()
        page.set_default_timeout(STEP_MS)
        await page.goto("/")
        await no_sideways_scroll(page, "sign-in")
        await page.fill("#email", "pat@example.com")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url("**/ui/inbox")

        await page.goto("/ui/inbox?view=all")
        rows = page.locator("tr.conv")
        await expect(rows.first).to_be_visible()
        assert await rows.count() >= 5
        await no_sideways_scroll(page, "inbox")
        subject = rows.filter(has_text="Export to CSV").locator("a.subject")
        await expect(subject).to_be_in_viewport(ratio=0.5)
        # Live updates may redraw the rows: measure whichever row is there now.
        left, right = await subject.evaluate(
            "(e) => { const r = e.getBoundingClientRect(); return [r.left, r.right]; }"
        )
        assert left >= 0 and right <= PHONE["width"]
        await page.screenshot(path=artifact("phone-inbox.png"), full_page=True)
        await assert_accessible(page, "inbox on a phone")

        await subject.tap()
        await page.wait_for_url("**/ui/conversations/*")
        await expect(page.locator(".msg-inbound").first).to_be_visible()
        await no_sideways_scroll(page, "conversation")
        await assert_accessible(page, "conversation on a phone")
        composer = page.locator("#composer-text")
        await composer.scroll_into_view_if_needed()
        await expect(composer).to_be_in_viewport()
        composer_box = await composer.bounding_box()
        assert composer_box is not None and composer_box["width"] >= PHONE["width"] * 0.7
        await composer.fill("Thanks Tom, a fix ships on Monday.")
        send = page.locator("[data-send]")
        await send.scroll_into_view_if_needed()
        await expect(send).to_be_in_viewport()
        await send.tap()
        await expect(page.locator(".toast")).to_have_text("Reply queued for delivery.")
        await expect(
            page.locator(".msg-outbound", has_text="a fix ships on Monday")
        ).to_be_visible()
        await page.screenshot(path=artifact("phone-conversation.png"), full_page=True)

        back = page.get_by_role("link", name="Back to the inbox")
        await back.scroll_into_view_if_needed()
        await expect(back).to_be_in_viewport()
        await back.tap()
        await page.wait_for_url("**/ui/inbox**")
        await expect(rows.first).to_be_visible()
        await no_sideways_scroll(page, "inbox again")
        await context.close()

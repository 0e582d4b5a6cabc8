"""The live operations view in a real browser: a supervisor keeps it open, a customer writes,
and the figures change without a reload; the page fits a 390-pixel-wide phone and works with
the keyboard (a figure's link opens its conversations; a reassign form submits with Enter).
Screenshots go to tests/artifacts/."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, expect

from hub.db.models import Role
from tests.browser.conftest import artifact, signed_in_page
from tests.hub.web.ui.conftest import inbound
from tests.support.desk import Desk

LIMIT_SECONDS = 120


async def test_a_new_message_changes_the_open_figures_without_reload(
    desk: Desk, browser: Browser
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        await inbound(desk, "First question", email="ann@customer.example")
        page = await signed_in_page(
            desk, browser, "sam@example.com", role=Role.SUPERVISOR, teams=()
        )
        await page.click("nav.mainnav >> text=Live")
        await page.wait_for_url("**/ui/live")
        await expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
        total_open = page.locator('tr[data-team="all"] td[data-figure="open"] a')
        waiting = page.locator('tr[data-channel="mail"] td[data-figure="waiting_us"] a')
        await expect(total_open).to_have_text("1")
        await expect(waiting).to_have_text("1")
        await page.evaluate("window.__sameDocument = true")

        await inbound(desk, "Second question", email="bea@customer.example")
        await expect(total_open).to_have_text("2", timeout=5_000)
        await expect(waiting).to_have_text("2")
        assert await page.evaluate("window.__sameDocument") is True  # no reload
        await page.screenshot(path=artifact("live-ops.png"), full_page=True)


async def test_the_view_fits_a_phone_and_works_with_the_keyboard(
    desk: Desk, browser: Browser
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        bob_id, _ = await desk.agent("bob@example.com", teams=("billing",))
        result = await inbound(desk, "Where is my parcel?", email="ann@customer.example")
        page = await signed_in_page(
            desk, browser, "sam@example.com", role=Role.SUPERVISOR, teams=()
        )
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto("/ui/live")
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page is {overflow}px wider than the phone"
        await page.screenshot(path=artifact("live-ops-390.png"), full_page=True)

        link = page.locator('tr[data-team="all"] td[data-figure="open"] a')
        await link.focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/ui/live/conversations?figure=open")
        row = page.locator(f'tr[data-conversation="{result.conversation_id}"]')
        await expect(row).to_be_visible()

        select = row.locator("select")
        await select.focus()
        await select.select_option(str(bob_id))
        await page.keyboard.press("Tab")  # to the Reassign button
        await page.keyboard.press("Enter")
        await expect(page.locator(".toast")).to_have_text("Assignment changed.")
        conversation = await desk.conversation(result.conversation_id)
        assert conversation.assignee_id == bob_id

"""Erasing a customer in a real browser, at 390 px and with the keyboard only: the admin tabs
to the confirmation field, types ERASE, presses Enter, and the profile says the data was erased.
Screenshot in tests/artifacts/."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, expect

from hub.db.models import Role
from tests.browser.conftest import artifact, signed_in_page
from tests.browser.test_customer_profile import WIDEST
from tests.support.desk import Desk
from tests.support.forms import submit

LIMIT_SECONDS = 120


async def test_admin_erases_a_customer_with_the_keyboard_at_390_px(
    desk: Desk, browser: Browser
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        status, _ = await submit(
            desk.client,
            {"name": "Jane Cooper", "email": "jane@example.com", "message": "Delete my data"},
        )
        assert status == 200
        [conversation] = await desk.conversations()
        root = await signed_in_page(desk, browser, "root@example.com", role=Role.ADMIN, teams=())
        await root.set_viewport_size({"width": 390, "height": 844})
        await root.goto(f"/ui/customers/{conversation.customer_id}")
        card = root.get_by_test_id("privacy")
        await expect(card).to_contain_text("Download everything held")
        width = await root.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the profile is {width} px wide: {await root.evaluate(WIDEST)}"
        await root.screenshot(path=artifact("customer-erase-390.png"), full_page=True)

        await root.get_by_label("Type ERASE to confirm").focus()
        await root.keyboard.type("ERASE")
        await root.keyboard.press("Enter")
        await expect(root.locator(".toast")).to_contain_text("personal data was erased")
        await expect(root.get_by_test_id("erased")).to_be_visible()
        await expect(root.locator("h1")).to_have_text("Unknown")

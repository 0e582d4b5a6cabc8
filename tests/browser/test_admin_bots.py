"""An admin registers a bot from the browser on a 390 px phone: fills the form, sees the bot's
token and signing secret once, and disables it; the bot page passes axe and fits the screen."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, expect

from hub.db.bots_models import Bot
from hub.db.models import Role
from tests.browser.axe import assert_accessible
from tests.browser.conftest import artifact, signed_in_page
from tests.support.desk import Desk

LIMIT_SECONDS = 90


async def test_an_admin_registers_a_bot_on_a_phone(desk: Desk, browser: Browser) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        page = await signed_in_page(desk, browser, "ada@example.com", role=Role.ADMIN, teams=())
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto("/ui/admin/bots")
        await page.get_by_role("link", name="Bots", exact=True).first.wait_for()
        form = page.locator("form[action='/ui/admin/bots']")
        await form.get_by_label("Name").fill("helper")
        await form.get_by_label("Kind").select_option("webhook")
        await form.get_by_role("button", name="Register bot").click()
        await expect(page.locator("#new-url-error")).to_contain_text("needs a URL")
        await form.get_by_label("URL").fill("https://bot.example.com/events")
        await form.get_by_label("api", exact=True).check()
        await form.get_by_label("Turns without progress").fill("3")
        await form.get_by_label("Hand back to the bot").check()
        await form.get_by_role("button", name="Register bot").click()

        token = page.locator("[data-token]")
        await expect(page.locator("[data-credentials]")).to_be_visible()
        assert (await token.input_value()).startswith("rdb_")
        assert await page.locator("[data-secret]").input_value()
        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, wide
        await assert_accessible(page, "bot page at 390px")
        await page.screenshot(path=artifact("admin-bot-390.png"), full_page=True)

        await page.get_by_role("button", name="Disable").click()
        await expect(page.locator("[data-bot-enabled]")).to_have_text("disabled")
        async with desk.db.reader() as session:
            bot = await session.get(Bot, 1)
            assert bot is not None and bot.name == "helper" and not bot.enabled
            assert (bot.channels, bot.max_turns_without_progress) == (["api"], 3)
            assert bot.handback_on_resolve

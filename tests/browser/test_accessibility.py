"""axe-core in Chromium on the pages everyone meets first: sign-in, the inbox and a conversation
(of the demo's, so every kind of row and message is on screen) have no serious or critical
accessibility problems."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, expect

from hub.db.models import Role
from hub.demo import seed_everything
from tests.browser.axe import assert_accessible
from tests.browser.conftest import artifact, signed_in_page
from tests.support.desk import Desk

LIMIT_SECONDS = 180


async def test_sign_in_inbox_and_conversation_pass_axe(desk: Desk, browser: Browser) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        await seed_everything(desk.hub.settings, desk.hub.clock.now())
        login = await browser.new_page(base_url=str(desk.client.make_url("/")).rstrip("/"))
        await login.goto("/ui/login")
        await assert_accessible(login, "sign-in")
        await login.close()

        page = await signed_in_page(
            desk, browser, "sue@example.com", role=Role.SUPERVISOR, teams=("support", "billing")
        )
        await page.goto("/ui/inbox?view=all")
        await expect(page.locator("tr.conv").first).to_be_visible()
        await assert_accessible(page, "inbox")
        await page.locator("tr.conv a.subject", has_text="Export to CSV").click()
        await page.wait_for_url("**/ui/conversations/*")
        await expect(page.locator(".msg-inbound").first).to_be_visible()
        await page.screenshot(path=artifact("axe-conversation.png"), full_page=True)
        await assert_accessible(page, "conversation")

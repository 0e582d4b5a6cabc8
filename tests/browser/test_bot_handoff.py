"""A bot hands a conversation over while a supervisor watches the inbox (Chromium, 390 px): a
notice pops up with the reason, the row is highlighted without a reload, and the conversation
page shows the reason and the exchange with the bot."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import Browser, expect

from hub.db.models import Role
from tests.browser.conftest import artifact, signed_in_page
from tests.hub.bots.conftest import fake_bot, register  # noqa: F401  (the fixture)
from tests.hub.web.ui.conftest import inbound
from tests.support.desk import Desk, auth
from tests.support.fake_bot import FakeBot

LIMIT_SECONDS = 90


async def test_the_handoff_reaches_the_inbox_live(
    desk: Desk,
    browser: Browser,
    fake_bot: FakeBot,  # noqa: F811
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        made = await register(
            desk, name="helper", kind="webhook", url=fake_bot.url("/events"), channels=["mail"]
        )
        cid = (await inbound(desk, "Where is my parcel?")).conversation_id
        page = await signed_in_page(
            desk, browser, "sam@example.com", role=Role.SUPERVISOR, teams=("support",)
        )
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto("/ui/inbox?view=all")
        await expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
        row = page.locator(f'tr.conv[data-id="{cid}"]')
        await expect(row).not_to_have_class(re.compile(r"\bhanded-over\b"))

        said = await desk.client.post(
            f"/api/v1/bots/conversations/{cid}/messages",
            json={"text": "Let me get a colleague.", "handoff": True, "reason": "parcel lost"},
            headers=auth(made["token"]),
        )
        assert said.status == 201, await said.text()
        toast = page.locator(".toast").filter(has_text="handed conversation")
        await expect(toast).to_contain_text(
            f"Bot helper handed conversation #{cid} over: the bot asked for a person."
        )
        await expect(row).to_have_class(re.compile(r"\bhanded-over\b"))
        await expect(row.locator("[data-handoff]")).to_contain_text("the bot asked for a person")
        await page.screenshot(path=artifact("bot-handoff-inbox-390.png"), full_page=True)

        await page.goto(f"/ui/conversations/{cid}")
        notice = page.locator("[data-bot-notice]")
        await expect(notice).to_contain_text("Reason: the bot asked for a person (parcel lost)")
        await expect(notice.locator("li")).to_have_text(
            ["customer: Where is my parcel?", "helper: Let me get a colleague."]
        )

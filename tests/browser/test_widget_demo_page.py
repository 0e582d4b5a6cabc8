"""A newcomer opens the widget's sample page the hub serves, chats through the launcher, and the
agents see them as "Visitor from" that page (the embed script passes its title to the chat)."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, expect
from sqlalchemy import select

from hub.db.models import Customer, Message
from tests.browser.conftest import STEP_MS, artifact
from tests.support.desk import Desk

LIMIT_SECONDS = 120


async def test_the_sample_page_embeds_the_chat_and_names_the_visitor_by_it(
    desk: Desk, browser: Browser
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        context = await browser.new_context(
            base_url=str(desk.client.make_url("/")).rstrip("/"),
            viewport={"width": 390, "height": 844},
        )
        page = await context.new_page()
        page.set_default_timeout(STEP_MS)
        await page.goto("/widget/chat/demo")
        await expect(page).to_have_title("Pricing | Demo Shop")
        await expect(page.locator("code", has_text="/widget/chat/embed.js")).to_be_visible()
        launcher = page.locator("#relaydesk-widget-launcher")
        await launcher.click()
        chat = page.frame_locator("#relaydesk-widget-frame")
        await expect(chat.locator("#rdw")).to_have_attribute("data-state", "live")
        await chat.locator("#rdw-text").fill("Is the Pro plan billed yearly?")
        await chat.locator("#rdw-send").click()
        await expect(
            chat.locator(".rdw-visitor[data-id]", has_text="Is the Pro plan billed yearly?")
        ).to_be_visible()
        await page.screenshot(path=artifact("widget-demo-page.png"))
        async with desk.hub.db.reader() as session:
            name = await session.scalar(
                select(Customer.name)
                .join(Message, Message.customer_id == Customer.id)
                .where(Message.text == "Is the Pro plan billed yearly?")
            )
        assert name == "Visitor from Pricing | Demo Shop"
        await context.close()

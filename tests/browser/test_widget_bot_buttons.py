"""A bot's card and buttons in the chat widget, in real Chromium at 390 px: the visitor sees the
card and real buttons under the bot's message, presses one with the keyboard, the bot hears
``button.pressed`` with its payload, and the buttons are disabled once answered."""

from __future__ import annotations

import asyncio
import base64

from playwright.async_api import Browser, Route, expect

from tests.browser.conftest import STEP_MS, artifact
from tests.hub.bots import conftest as bots
from tests.support.desk import Desk
from tests.support.fake_bot import FakeBot
from tests.support.poll import eventually

fake_bot = bots.fake_bot  # the fake bot on a local server, as the bot stories have it
LIMIT_SECONDS = 90
IMAGE = "https://shop.example.com/kettle.png"
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/eL9QWQAAAABJRU5ErkJggg=="
)


def answer(body: dict[str, object]) -> object:
    if body["event"] == "button.pressed":
        return {"messages": [{"text": "Added to your basket."}]}
    if body["event"] != "message.created":
        return {}
    card = {
        "title": "Kettle Pro",
        "text": "Boils in 90 seconds.",
        "image": IMAGE,
        "buttons": [
            {"title": "Buy it", "payload": "buy_kettle"},
            {"title": "Not now", "payload": "later"},
            {"title": "Specs", "url": "https://shop.example.com/kettle"},
        ],
    }
    return {"messages": [{"card": card}]}


async def test_a_visitor_presses_a_bots_button_with_the_keyboard(
    desk: Desk, browser: Browser, fake_bot: FakeBot
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        await bots.register(desk, name="shop", kind="webhook", url=fake_bot.url("/events"),
                            channels=["chat"])  # fmt: skip
        fake_bot.answer = answer
        context = await browser.new_context(
            base_url=str(desk.client.make_url("/")).rstrip("/"),
            viewport={"width": 390, "height": 760},
        )

        async def picture(route: Route) -> None:  # no network: the shop's image from here
            await route.fulfill(status=200, content_type="image/png", body=PIXEL)

        await context.route(IMAGE, picture)
        page = await context.new_page()
        page.set_default_timeout(STEP_MS)
        await page.goto("/widget/chat")
        await expect(page.locator("#rdw")).to_have_attribute("data-state", "live")
        await page.fill("#rdw-text", "Do you sell kettles?")
        await page.press("#rdw-text", "Enter")
        await expect(page.locator(".rdw-visitor[data-id]")).to_have_count(1)

        async def asked() -> bool:
            await desk.run_jobs()
            return bool(fake_bot.events("message.created"))

        await eventually(asked, what="the bot asked")
        bot_message = page.locator(".rdw-agent", has_text="Boils in 90 seconds.")
        await expect(bot_message.locator(".rdw-card-title")).to_have_text("Kettle Pro")
        await expect(bot_message.locator("img")).to_have_attribute("alt", "Kettle Pro")
        buy = bot_message.get_by_role("button", name="Buy it")
        later = bot_message.get_by_role("button", name="Not now")
        await expect(buy).to_be_enabled()
        await expect(bot_message.get_by_role("link", name="Specs")).to_have_attribute(
            "href", "https://shop.example.com/kettle"
        )
        # Keyboard: from "Buy it", Tab reaches "Not now"; Enter presses it.
        await buy.focus()
        await page.keyboard.press("Tab")
        await expect(later).to_be_focused()
        await page.keyboard.press("Shift+Tab")
        await expect(buy).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.locator(".rdw-visitor[data-id]", has_text="Buy it")).to_be_visible()
        await expect(buy).to_be_disabled()
        await expect(later).to_be_disabled()
        await expect(buy).to_have_attribute("aria-pressed", "true")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the widget scrolls sideways at 390 px ({width})"

        async def pressed() -> bool:
            await desk.run_jobs()
            return bool(fake_bot.events("button.pressed"))

        await eventually(pressed, what="the bot heard the press")
        [event] = fake_bot.events("button.pressed")
        assert event["button"] == {"payload": "buy_kettle"}
        await expect(page.locator(".rdw-agent", has_text="Added to your basket.")).to_be_visible()
        await page.screenshot(path=artifact("widget-bot-buttons.png"), full_page=True)

        await page.reload()  # the history: still answered, still disabled
        await expect(page.locator("#rdw")).to_have_attribute("data-state", "live")
        again = page.locator(".rdw-agent", has_text="Boils in 90 seconds.")
        await expect(again.get_by_role("button", name="Buy it")).to_be_disabled()
        await context.close()

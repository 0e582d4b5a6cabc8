"""The opt-out pages in Chromium on a phone-sized screen, used with the keyboard only."""

from __future__ import annotations

from playwright.async_api import Browser, Page

from tests.browser.conftest import STEP_MS
from tests.support.campaign_rows import campaign, consent_state, person, recipient, token_for
from tests.support.desk import Desk


async def _phone(desk: Desk, browser: Browser) -> Page:
    context = await browser.new_context(
        base_url=str(desk.client.make_url("/")).rstrip("/"), viewport={"width": 390, "height": 844}
    )
    page = await context.new_page()
    page.set_default_timeout(STEP_MS)
    return page


async def _fits(page: Page) -> bool:
    width = await page.evaluate("document.documentElement.scrollWidth")
    return int(width) <= 390


async def test_unsubscribe_and_preferences_with_the_keyboard_at_390px(
    desk: Desk, browser: Browser
) -> None:
    jane = await person(desk, "Jane Cooper", email="jane@example.com", telegram="5550001")
    spring = await campaign(desk, "Spring sale")
    rid = await recipient(desk, spring, jane, "email", "mail")
    token = token_for(desk, rid)
    page = await _phone(desk, browser)

    await page.goto(f"/u/{token}")
    assert await _fits(page)
    assert await consent_state(desk, jane.identities["email"]) == ("granted", "form")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent.trim()") == "Unsubscribe"
    await page.keyboard.press("Enter")
    await page.get_by_text("You are unsubscribed").wait_for()
    assert await consent_state(desk, jane.identities["email"]) == ("revoked", "unsubscribe")

    await page.goto(f"/u/{token}/preferences")
    assert await _fits(page)
    await page.keyboard.press("Tab")  # the email box (unticked now)
    await page.keyboard.press("Tab")  # the Telegram box
    await page.keyboard.press("Space")  # untick Telegram
    await page.keyboard.press("Tab")  # the preferred channel
    await page.keyboard.press("Tab")  # Save
    await page.keyboard.press("Enter")
    await page.get_by_text("Your preferences are saved").wait_for()
    assert await _fits(page)
    assert await consent_state(desk, jane.identities["telegram"]) == ("revoked", "preferences")

"""The Content-Security-Policy in real Chromium: an admin signs in and walks through the main
pages (sign-in, inbox, a conversation, customers and a profile, reports, campaigns, their
account) and a visitor opens the chat widget; the browser reports no CSP violation on any of
them, while an inline script injected into a page is refused (so the listener does hear)."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser as Chromium
from playwright.async_api import BrowserContext, ConsoleMessage, Page, expect

from hub.db.models import Presence, Role
from tests.browser.conftest import PASSWORD, STEP_MS
from tests.support.desk import Desk
from tests.support.forms import submit

LIMIT_SECONDS = 120
# Runs before any page script (through the DevTools protocol, which the CSP does not govern).
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


async def open_context(desk: Desk, browser: Chromium, width: int = 1440) -> BrowserContext:
    context = await browser.new_context(
        base_url=str(desk.client.make_url("/")).rstrip("/"),
        viewport={"width": width, "height": 900},
    )
    await context.add_init_script(LISTEN)
    return context


def console_violations(page: Page) -> list[str]:
    heard: list[str] = []

    def hear(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            heard.append(f"{page.url}: {message.text}")

    page.on("console", hear)
    return heard


async def visit(page: Page, path: str, ready: str) -> list[str]:
    response = await page.goto(path)
    assert response is not None and response.status == 200, path
    await expect(page.locator(ready).first).to_be_visible()
    await page.wait_for_timeout(300)  # let deferred scripts run and fetch what they fetch
    return [f"{path}: {v}" for v in await page.evaluate("window.__csp")]


async def test_the_main_pages_raise_no_csp_violation(desk: Desk, browser: Chromium) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        await desk.agent(
            "ada@example.com", role=Role.ADMIN, presence=Presence.OFFLINE, password=PASSWORD
        )
        status, _ = await submit(
            desk.client,
            {
                "name": "Jane Cooper",
                "email": "jane@example.com",
                "subject": "Kettle",
                "message": "Is the blue kettle back?",
            },
        )
        assert status == 200
        context = await open_context(desk, browser)
        page = await context.new_page()
        page.set_default_timeout(STEP_MS)
        heard = console_violations(page)
        reported = await visit(page, "/ui/login", "#email")
        await page.fill("#email", "ada@example.com")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url("**/ui/inbox")
        reported += await visit(page, "/ui/inbox?view=all", "tr.conv")
        await page.locator("tr.conv a.subject").first.click()
        await page.wait_for_url("**/ui/conversations/*")
        await expect(page.locator(".msg-inbound")).to_contain_text("blue kettle")
        await page.wait_for_timeout(300)
        reported += [f"conversation: {v}" for v in await page.evaluate("window.__csp")]
        for path, ready in (
            ("/ui/customers", "main h1"),
            ("/ui/reports", "main"),
            ("/ui/campaigns", "main h1"),
            ("/ui/segments", "main h1"),
            ("/ui/live", "main"),
            ("/ui/account", "table.sessions"),
            ("/ui/admin/agents", "main h1"),
        ):
            reported += await visit(page, path, ready)
        await page.goto("/ui/customers")
        await page.locator("a[href^='/ui/customers/']", has_text="Jane Cooper").first.click()
        await expect(page.locator("main h1")).to_contain_text("Jane Cooper")
        await page.wait_for_timeout(300)
        reported += [f"profile: {v}" for v in await page.evaluate("window.__csp")]

        visitor = await (await open_context(desk, browser, width=420)).new_page()
        visitor.set_default_timeout(STEP_MS)
        heard += console_violations(visitor)
        await visitor.goto("/widget/chat")
        await expect(visitor.locator("#rdw")).to_have_attribute("data-state", "live")
        reported += [f"widget: {v}" for v in await visitor.evaluate("window.__csp")]
        assert reported == [] and heard == []

        # The listener hears what the policy refuses: an injected inline script does not run.
        await page.goto("/ui/inbox")
        await page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.__ran = true'; document.head.appendChild(s); }"
        )
        await page.wait_for_timeout(200)
        assert await page.evaluate("window.__ran === undefined")
        assert any("script-src" in v for v in await page.evaluate("window.__csp"))
        await context.close()

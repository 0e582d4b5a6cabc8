"""An admin subscribes a receiver to webhooks from the browser on a 390 px phone: chooses the
events, copies the signing secret shown once, sends a test event and sees it in the delivery
log, disables the subscription and redelivers from the log once it is enabled again."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, expect

from hub.db.models import Role
from tests.browser.axe import assert_accessible
from tests.browser.conftest import artifact, signed_in_page
from tests.hub.integrations.conftest import arrived
from tests.support.desk import Desk
from tests.support.recorder import HttpRecorder

LIMIT_SECONDS = 90


async def test_an_admin_subscribes_a_receiver_and_tests_it(desk: Desk, browser: Browser) -> None:
    receiver = HttpRecorder()
    await receiver.start()
    try:
        async with asyncio.timeout(LIMIT_SECONDS):
            page = await signed_in_page(desk, browser, "ada@example.com", role=Role.ADMIN)
            await page.set_viewport_size({"width": 390, "height": 844})
            await page.goto("/ui/admin")
            await page.get_by_role("link", name="Webhooks").click()
            await expect(page.get_by_text("No subscriptions yet.")).to_be_visible()

            form = page.locator("form[action='/ui/admin/webhooks']")
            await form.get_by_label("Name").fill("crm")
            await form.get_by_label("URL").fill("ftp://example.com")
            await form.get_by_role("button", name="Create subscription").click()
            await expect(page.locator("#new-url-error")).to_contain_text("http:// or https://")

            await form.get_by_label("URL").fill(receiver.url("/hooks"))
            for box in await form.get_by_role("checkbox").all():
                await box.uncheck()
            await form.get_by_role("checkbox", name="conversation.status_changed").check()
            await form.get_by_role("checkbox", name="csat.received").check()
            await form.get_by_role("button", name="Create subscription").click()
            secret = await page.locator("[data-secret]").input_value()
            assert secret.startswith("whsec_")
            await assert_accessible(page, "the secret shown once at 390px")
            await page.screenshot(path=artifact("admin-webhooks-390.png"), full_page=True)
            await page.goto("/ui/admin/webhooks")
            assert secret not in await page.content()  # shown once

            await page.get_by_role("link", name="crm").click()
            checked = page.locator("input[name=events]:checked")
            await expect(checked).to_have_count(2)
            await page.get_by_role("button", name="Send test event").click()
            await expect(page.get_by_text("Test event queued.")).to_be_visible()
            await desk.hub.webhooks.run_once()
            [ping] = arrived(receiver, secret)
            assert ping["event"] == "ping"
            await page.reload()
            row = page.locator("tr[data-delivery]")
            await expect(row.locator("[data-delivery-state]")).to_have_text("delivered")
            await assert_accessible(page, "a webhook subscription's page at 390px")

            await page.get_by_role("button", name="Disable").click()
            await expect(page.locator("[data-state]")).to_contain_text("Disabled")
            await page.get_by_role("button", name="Enable").click()
            await page.get_by_role("button", name="Redeliver delivery").click()
            await expect(page.get_by_text("Delivery queued again.")).to_be_visible()
            await desk.hub.webhooks.run_once()
            assert [body["id"] for body in arrived(receiver, secret)] == [ping["id"]] * 2
    finally:
        await receiver.stop()

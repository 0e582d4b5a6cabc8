"""An admin runs the hub from the browser (Chromium, part on a 390 px wide phone screen):
renames the instance, adds a routing rule and tries it in the dry run, adds business hours,
edits the acknowledgement with its live preview (a broken line is pointed out as they type),
and checks a channel with a test send, secrets never shown."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, expect

from hub.db.models import Role
from tests.browser.conftest import artifact, signed_in_page
from tests.support.desk import Desk

LIMIT_SECONDS = 90


async def test_settings_routing_and_hours(desk: Desk, browser: Browser) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        page = await signed_in_page(
            desk, browser, "ada@example.com", role=Role.ADMIN, teams=("support", "billing")
        )
        await page.goto("/ui/admin/settings")
        instance = page.locator("#setting-instance_name")
        await expect(instance.locator(".source")).to_have_text("Config file")
        await instance.locator("input[name=value]").fill("Acme Help")
        await instance.get_by_role("button", name="Save").click()
        await expect(page.locator(".brand")).to_contain_text("Acme Help")
        await expect(instance.locator(".source")).to_have_text("Admin console")

        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto("/ui/admin/routing")
        form = page.locator("#rule-form")
        await form.get_by_label("Name").fill("chargebacks")
        await form.get_by_label("Keywords (comma-separated)").fill("chargeback")
        await form.get_by_label("Team").select_option("billing")
        await form.get_by_label("Priority").select_option("urgent")
        await form.get_by_role("button", name="Add rule").click()
        await expect(page.locator("table.rules")).to_contain_text("chargebacks")
        dry = page.locator("#dry-run")
        await dry.get_by_label("Text").fill("A chargeback hit my card")
        await dry.get_by_role("button", name="Try it").click()
        result = page.locator("#dry-run .result")
        await expect(result).to_contain_text("chargebacks would fire")
        await expect(result).to_contain_text("team billing, priority urgent")
        await page.screenshot(path=artifact("admin-routing-390.png"), full_page=True)

        await page.goto("/ui/admin/sla")
        await page.get_by_text("New calendar").click()
        new = page.locator("details[open] .calendar-form").last
        await new.get_by_label("Name").fill("weekend")
        await new.get_by_label("Sat").fill("10:00-14:00")
        await new.get_by_label("Sun").fill("10 to 2")
        await new.get_by_role("button", name="Add calendar").click()
        await expect(page.locator("#calendars .field-error")).to_contain_text(
            "is not a span like 09:00-17:30"
        )
        assert "weekend" not in desk.settings.calendars


async def test_template_live_preview_and_channels(desk: Desk, browser: Browser) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        page = await signed_in_page(desk, browser, "ada@example.com", role=Role.ADMIN)
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto("/ui/admin/templates")
        await page.get_by_role("link", name="ack", exact=True).click()
        text = page.get_by_label("Plain text")
        await text.fill("Hello {{ customer.name }},\nticket {{ tiket.number }}")
        error = page.locator("[data-preview-error]")
        await expect(error).to_have_text("txt line 2: UndefinedError: 'tiket' is undefined")
        await expect(text).to_have_attribute("aria-invalid", "")
        await text.fill("Hello {{ customer.name }},\nticket #{{ ticket.number }}")
        await expect(error).to_be_hidden()
        await expect(page.locator("[data-preview-text]")).to_have_text(
            "Hello Jane Cooper,\nticket #1042\n"
        )
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_text("This variant is saved in the hub.")).to_be_visible()

        await page.goto("/ui/admin/channels")
        api = page.locator("#channel-api")
        await expect(api).to_contain_text("/api/v1/inbound/api")
        assert "demo-inbound-token" not in await page.content()
        await api.get_by_label("Send a test to").fill("ops@example.com")
        await api.get_by_role("button", name="Send test").click()
        await expect(page.locator("#channel-api")).to_contain_text("Test message sent.")
        await page.screenshot(path=artifact("admin-channels-390.png"), full_page=True)

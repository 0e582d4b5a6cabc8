"""The SLA countdown on a conversation runs in the browser: without a reload or a push, time
passing turns "SLA in 8h" into a breach, in words and in colour."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from playwright.async_api import Browser, expect

from hub.config.settings import Settings
from hub.db.models import Role
from tests.browser.conftest import artifact, signed_in_page
from tests.conftest import fake_endpoints, make_settings
from tests.support.desk import Desk
from tests.support.forms import submit
from tests.support.recorder import HttpRecorder
from tests.support.smtp import SmtpSink

LIMIT_SECONDS = 90
# Urgent conversations get a quarter of an hour, and the team wants to hear of them at once:
# a warning as long as the target puts them at risk from the start.
AT_RISK_AT_ONCE = {
    "name": "urgent",
    "priorities": ["urgent"],
    "first_response_minutes": 15,
    "resolution_minutes": 240,
    "warn_before_minutes": 15,
}


@pytest.fixture
def settings(database_url: str, smtp_sink: SmtpSink, callback_server: HttpRecorder) -> Settings:
    return make_settings(
        database_url,
        **fake_endpoints(smtp_sink, callback_server),
        **{"sla_policies": [AT_RISK_AT_ONCE]},
    )


async def test_countdown_turns_into_a_breach_without_reload(desk: Desk, browser: Browser) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        page = await signed_in_page(
            desk, browser, "sam@example.com", role=Role.SUPERVISOR, teams=("support",)
        )
        status, _ = await submit(
            desk.client,
            {"name": "Jane", "email": "jane@example.com", "subject": "Slow", "message": "Hi"},
        )
        assert status == 200
        [conversation] = await desk.conversations()
        assert conversation.sla_due_at is not None
        await page.clock.install(time=desk.hub.clock.now())
        await page.goto(f"/ui/conversations/{conversation.id}")
        timer = page.locator(".conv-head [data-due]")
        await expect(timer).to_have_class("sla sla-on_track")
        await expect(timer).to_contain_text("SLA in")
        await page.evaluate("window.__sameDocument = true")

        # Half a minute past "2m ago" begins: the page's clock may lag the hub's on a busy machine.
        left = conversation.sla_due_at - desk.hub.clock.now()
        await page.clock.run_for(int((left + timedelta(minutes=2.5)).total_seconds() * 1000))
        await expect(timer).to_have_text("SLA breached 2m ago")
        await expect(timer).to_have_class("sla sla-breached")
        assert await page.evaluate("window.__sameDocument") is True
        await page.screenshot(path=artifact("sla-breached.png"))


async def test_sla_at_risk_pops_up_for_the_assignee(desk: Desk, browser: Browser) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        page = await signed_in_page(
            desk, browser, "sam@example.com", role=Role.SUPERVISOR, teams=("support",)
        )
        await page.goto("/ui/inbox?view=all")
        await expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
        # "down" makes it urgent: 15 minutes to answer, at risk from the start (AT_RISK_AT_ONCE)
        status, _ = await submit(
            desk.client,
            {
                "name": "Jane",
                "email": "jane@example.com",
                "subject": "Down",
                "message": "Site down",
            },
        )
        assert status == 200
        toast = page.locator('.toast[data-notice="sla_warning"]')
        await expect(toast).to_contain_text("SLA at risk: first response due", timeout=8_000)
        await page.screenshot(path=artifact("sla-at-risk.png"))
        await toast.click()
        await page.wait_for_url("**/ui/conversations/*")

"""A marketer in a real browser: lands on the campaigns, writes a campaign and watches the live
preview follow the typing, sees a template error inline with its line, confirms the recipient
count, sends to a small segment of email and web-chat customers, watches the progress reach
"finished" without a reload and reads the results chart and table. Screenshots at 1280 and
390 px go to tests/artifacts/."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from hub.db.models import Role
from tests.browser.conftest import artifact, signed_in_page
from tests.conftest import fake_endpoints, make_settings
from tests.hub.campaigns.audience import add_person, add_segment
from tests.support.desk import Desk, MakeDesk
from tests.support.recorder import HttpRecorder
from tests.support.smtp import SmtpSink

LIMIT_SECONDS = 150
SLOW = {"per_second": 2, "concurrency": 1}


@pytest.fixture
async def desk(
    make_desk: MakeDesk, database_url: str, smtp_sink: SmtpSink, callback_server: HttpRecorder
) -> Desk:
    # Sends at two a second, so the page has a send in progress to follow.
    throttles: dict[str, Any] = {
        kind: SLOW for kind in ("email", "telegram", "slack", "widget", "api", "memory")
    }
    settings = make_settings(
        database_url,
        **fake_endpoints(smtp_sink, callback_server),
        **{
            "campaigns.poll_seconds": 0.05,
            "campaigns.quiet_hours": False,
            "campaigns.throttles": throttles,
        },
    )
    return await make_desk(settings=settings, memory=("chat",))


async def shots(page: Page, name: str) -> None:
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.screenshot(path=artifact(f"{name}-1280.png"), full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=artifact(f"{name}-390.png"), full_page=True)
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name} scrolls sideways at 390 px ({overflow} px)"
    await page.set_viewport_size({"width": 1280, "height": 900})


async def test_a_marketer_writes_previews_sends_and_watches_a_campaign_finish(
    desk: Desk, browser: Browser, smtp_sink: SmtpSink
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        now = desk.hub.clock.now()
        for name, address in (
            ("Ann Lee", "ann@example.com"),
            ("Bob Ray", "bob@example.com"),
            ("Cleo Park", "cleo@example.com"),
        ):
            await add_person(desk.db, now, name, {"email": address})
        await add_person(desk.db, now, "Wendy Wu", {"web": "visitor-w"})
        await add_person(desk.db, now, "No Consent", {"email": "nc@example.com"}, consent={})
        await add_segment(desk.db, now, "Newsletter")

        page = await signed_in_page(desk, browser, "mia@example.com", role=Role.MARKETER, teams=())
        assert page.url.endswith("/ui/campaigns")
        await expect(page.locator("h1")).to_have_text("Campaigns")
        await expect(page.locator(".mainnav a[aria-current=page]")).to_have_text("Campaigns")

        await page.fill("#new-name", "Spring sale")
        await page.select_option("#new-segment", label="Newsletter (5)")
        await page.click("text=Create draft")
        await page.wait_for_url(re.compile(r"/ui/campaigns/\d+/edit(\?notice=created)?$"))
        await expect(page.locator("#segment-count")).to_have_text("5 people")

        # The live preview follows the typing (debounced), as a chosen customer.
        await page.select_option("#preview-customer", label="Ann Lee")
        await page.fill("#email-subject", "Spring is here, {{ customer.first_name }}")
        await expect(page.locator("#preview-subject")).to_have_text("Subject: Spring is here, Ann")
        await page.locator("#email-subject").press_sequentially("!", delay=20)
        await expect(page.locator("#preview-subject")).to_have_text("Subject: Spring is here, Ann!")
        await page.fill("#email-text", "Hi {{ customer.first_name }}, 20% off this week.")
        await expect(page.locator("#preview-text")).to_contain_text("Hi Ann, 20% off this week.")
        await page.fill(
            "#email-html", "<h1>Spring sale</h1>\n<p>Hi {{ customer.first_name }}, 20% off.</p>"
        )
        frame = page.frame_locator("#preview-html")
        await expect(frame.locator("p").first).to_have_text("Hi Ann, 20% off.")

        # A template error shows inline with its line, and goes away when fixed.
        await page.fill("#email-html", "<h1>Spring sale</h1>\n<p>Hi {{ customer.first_name </p>")
        error = page.locator('[data-error-for="content.email.html"]')
        await expect(error).to_be_visible()
        await expect(error).to_contain_text("line 2")
        await expect(page.locator("#email-html")).to_have_attribute("aria-invalid", "true")
        await shots(page, "campaign-editor-error")
        await page.fill(
            "#email-html", "<h1>Spring sale</h1>\n<p>Hi {{ customer.first_name }}, 20% off.</p>"
        )
        await expect(error).to_be_hidden()

        await page.select_option("#preview-channel", "web")
        await page.fill("#chat-text", "Hi {{ customer.first_name }}, our *spring sale* is on.")
        await expect(page.locator("#preview-text")).to_contain_text("Hi Ann, our")
        await shots(page, "campaign-editor")

        # Keyboard: the send button is reached and pressed from the keyboard.
        await page.locator("button[value=send]").focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/ui/campaigns/*/confirm")
        await expect(page.locator("h1")).to_have_text("Send “Spring sale” to 5 people?")
        await shots(page, "campaign-confirm")
        await page.click("text=Send to 5 people")
        # (the page takes the notice out of the address bar once shown)
        await page.wait_for_url(re.compile(r"/ui/campaigns/\d+(\?notice=sending)?$"))
        await expect(page.locator(".toast")).to_have_text("Sending started.")
        await page.evaluate("window.__sameDocument = true")
        main = page.locator(".campaign-page")
        # Rendered while sending (two a second): what follows arrives without a reload.
        assert await main.get_attribute("data-finished") == "no"

        # Live progress, without a reload, until every recipient is accounted for.
        await expect(main).to_have_attribute("data-finished", "yes", timeout=30_000)
        assert await page.evaluate("window.__sameDocument") is True
        await expect(page.locator("#state-badge")).to_have_text("Finished")
        await expect(page.locator('[data-count="sent"]')).to_have_text("4")
        await expect(page.locator('[data-count="skipped"]')).to_have_text("1")
        await expect(page.locator("[data-explanation]")).to_contain_text(
            "Finished: 4 sent + 0 failed + 1 skipped + 0 unconfirmed"
        )
        await expect(page.locator("#results svg").first).to_be_visible()
        await expect(page.locator('#actions [data-action="edit"]')).to_be_hidden()
        await expect(page.locator(".results-table tfoot")).to_contain_text("All")
        await expect(page.locator(".skipped-table")).to_contain_text("no consent")
        await expect(page.locator("text=Export recipients (CSV)")).to_be_visible()
        await shots(page, "campaign-results")

        received = await smtp_sink.wait_for(3)
        assert sorted(r for m in received for r in m.rcpt_tos) == [
            "ann@example.com",
            "bob@example.com",
            "cleo@example.com",
        ]
        assert [m.text.split(",")[0] for m in desk.sent("chat")] == ["Hi Wendy"]

        await page.goto("/ui/campaigns")
        row = page.locator("tr", has_text="Spring sale")
        await expect(row).to_contain_text("Finished")
        await shots(page, "campaign-list")

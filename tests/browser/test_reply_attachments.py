"""Files in the reply box, in a real browser: the agent picks two files, sees their names and
sizes, removes one, is told at once that a too-large file was not added, sends; the mail at the
SMTP sink carries the file and the timeline links it for download."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser, expect

from hub.config.settings import Settings
from tests.browser.conftest import artifact, signed_in_page
from tests.conftest import fake_endpoints, make_settings
from tests.hub.web.ui.conftest import inbound
from tests.support.desk import Desk
from tests.support.recorder import HttpRecorder
from tests.support.smtp import SmtpSink

LIMIT_SECONDS = 90
PDF = b"%PDF-1.4\n" + b"0" * 3000


@pytest.fixture
def settings(database_url: str, smtp_sink: SmtpSink, callback_server: HttpRecorder) -> Settings:
    return make_settings(
        database_url,
        **fake_endpoints(smtp_sink, callback_server),
        **{
            "attachments.max_bytes": "64 KB",
        },
    )


async def test_agent_attaches_a_file_and_the_mail_carries_it(
    desk: Desk, browser: Browser, smtp_sink: SmtpSink
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        cid = (await inbound(desk, "Please send the signed contract.")).conversation_id
        page = await signed_in_page(desk, browser, "sue@example.com")
        await page.goto(f"/ui/conversations/{cid}")
        picker = page.locator("[data-attach-input]")
        await picker.set_input_files(
            [
                {"name": "contract.pdf", "mimeType": "application/pdf", "buffer": PDF},
                {"name": "draft.txt", "mimeType": "text/plain", "buffer": b"old draft"},
            ]
        )
        chosen = page.locator("[data-attach-list] li")
        await expect(chosen).to_have_count(2)
        await expect(chosen.nth(0)).to_contain_text("contract.pdf")
        await expect(chosen.nth(0)).to_contain_text("2.9 KiB")
        await page.click("[aria-label='Remove draft.txt']")
        await expect(chosen).to_have_count(1)

        await picker.set_input_files(
            [{"name": "huge.iso", "mimeType": "application/octet-stream", "buffer": b"x" * 70_000}]
        )
        await expect(page.locator("[data-attach-error]")).to_contain_text(
            "huge.iso is larger than the limit of 64.0 KiB"
        )
        await expect(chosen).to_have_count(1)

        await page.fill("#composer-text", "Here is the contract, signed.")
        await page.screenshot(path=artifact("reply-attachments.png"), full_page=True)
        await page.click("[data-send]")
        await expect(page.locator(".toast")).to_have_text("Reply queued for delivery.")

        async def mailed() -> bool:
            return any("Here is the contract" in m.text() for m in smtp_sink.received)

        while not await mailed():
            await asyncio.sleep(0.05)
        [mail] = [m for m in smtp_sink.received if "Here is the contract" in m.text()]
        parts = {p.get_filename(): p.get_content() for p in mail.message.iter_attachments()}
        assert parts == {"contract.pdf": PDF}

        reply = page.locator(".msg-outbound", has_text="Here is the contract")
        link = reply.locator(".attachments a", has_text="contract.pdf")
        await expect(link).to_be_visible()
        async with page.expect_download() as waiting:
            await link.click()
        download = await waiting.value
        assert download.suggested_filename == "contract.pdf"
        saved = await download.path()
        assert saved.read_bytes() == PDF

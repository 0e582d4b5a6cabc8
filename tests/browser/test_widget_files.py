"""Files in the chat widget in real Chromium: a visitor picks a file with the paperclip, sees its
name and size, sends it; the agent API lists it on the message and downloads the same bytes. A
file over the cap is refused in the page before any upload. An agent's reply with a file shows
as a link the visitor downloads. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
from playwright.async_api import Browser, expect
from sqlalchemy import func, select

from hub.db.file_models import StoredFile
from hub.db.models import Message, Role
from tests.browser.conftest import STEP_MS, artifact
from tests.conftest import auth
from tests.support.desk import Desk

LIMIT_SECONDS = 90


async def test_a_visitor_sends_a_file_and_gets_one_back(
    desk: Desk, browser: Browser, tmp_path: Path
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        _, token = await desk.agent("sam@example.com", role=Role.SUPERVISOR)
        context = await browser.new_context(
            base_url=str(desk.client.make_url("/")).rstrip("/"),
            viewport={"width": 420, "height": 640},
            accept_downloads=True,
        )
        page = await context.new_page()
        page.set_default_timeout(STEP_MS)
        await page.goto("/widget/chat")
        await expect(page.locator("#rdw")).to_have_attribute("data-state", "live")

        # Too large: refused in the page, nothing uploaded.
        cap = desk.hub.settings.attachments.max_bytes
        big = tmp_path / "huge.bin"
        big.write_bytes(b"x" * (cap + 1))
        await page.set_input_files("#rdw-file", str(big))
        await expect(page.locator("#rdw-error")).to_contain_text("huge.bin")
        await expect(page.locator("#rdw-error")).to_contain_text("too large")
        await expect(page.locator("#rdw-chosen")).to_be_hidden()

        receipt = tmp_path / "receipt.txt"
        receipt.write_bytes(b"order 1234, paid 12.50 EUR\n")
        async with page.expect_file_chooser() as chooser_info:
            await page.click("#rdw-attach")
        chooser = await chooser_info.value
        await chooser.set_files(str(receipt))
        await expect(page.locator("#rdw-chosen")).to_contain_text("receipt.txt")
        await expect(page.locator("#rdw-chosen")).to_contain_text("27 bytes")
        await page.fill("#rdw-text", "My receipt is attached")
        await page.click("#rdw-send")
        mine = page.locator(".rdw-visitor", has_text="My receipt is attached")
        await expect(mine).to_have_attribute("data-id", re.compile(r"^\d+$"))
        await expect(mine.locator("a.rdw-file", has_text="receipt.txt")).to_be_visible()
        await expect(page.locator("#rdw-chosen")).to_be_hidden()
        message_id = int(await mine.get_attribute("data-id") or 0)

        listed = await desk.client.get(
            f"/api/v1/messages/{message_id}/attachments/0", headers=auth(token)
        )
        assert listed.status == 200
        assert await listed.read() == b"order 1234, paid 12.50 EUR\n"
        async with desk.hub.db.reader() as session:
            message = await session.get(Message, message_id)
            assert message is not None
            assert [a["filename"] for a in message.attachments] == ["receipt.txt"]
            stored = await session.scalar(select(func.count()).select_from(StoredFile))
            assert stored == 1  # the refused file never left the page

        # The agent answers with a file: a link in the chat, downloaded by the visitor.
        form = aiohttp.FormData()
        form.add_field("file", b"%PDF-1.4 label", filename="label.pdf")
        uploaded = await desk.client.post("/api/v1/uploads", data=form, headers=auth(token))
        assert uploaded.status == 201
        file_id = (await uploaded.json())["id"]
        sent = await desk.client.post(
            f"/api/v1/conversations/{message.conversation_id}/messages",
            json={"text": "Here is your return label.", "attachments": [file_id]},
            headers=auth(token),
        )
        assert sent.status == 201, await sent.text()
        link = page.locator(".rdw-agent a.rdw-file", has_text="label.pdf")
        await expect(link).to_be_visible(timeout=5_000)
        await page.screenshot(path=artifact("widget-files.png"), full_page=True)
        async with page.expect_download() as download_info:
            await link.click()
        download = await download_info.value
        assert download.suggested_filename == "label.pdf"
        saved = tmp_path / "got.pdf"
        await download.save_as(str(saved))
        assert saved.read_bytes() == b"%PDF-1.4 label"
        await context.close()

"""A supervisor reads their notices on a 390 px phone with the keyboard only (Chromium): the
navigation shows how many are unread, the notices page links to the conversation, a notice is
marked read with Enter on its button and "Mark all read" empties the count; axe finds no serious
or critical problem on the page."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, expect

from hub.core.notices import notify
from hub.core.staff import agent_by_email
from hub.db.models import Conversation, Role
from hub.platform.events import publish
from tests.browser.axe import assert_accessible
from tests.browser.conftest import artifact, signed_in_page
from tests.hub.web.ui.conftest import inbound
from tests.support.desk import Desk

LIMIT_SECONDS = 90


async def test_a_supervisor_reads_and_clears_notices_by_keyboard_on_a_phone(
    desk: Desk, browser: Browser
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        page = await signed_in_page(desk, browser, "sam@example.com", role=Role.SUPERVISOR)
        result = await inbound(desk, "Where is my order?")
        async with desk.db.writer() as session:
            sam = await agent_by_email(session, "sam@example.com")
            assert sam is not None
            now = desk.hub.clock.now()
            for text in ("First response overdue", "Resolution overdue"):
                notify(session, sam.id, "sla_escalation", text, now, result.conversation_id)
            await session.commit()

        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto("/ui/inbox")
        nav = page.get_by_role("link", name="Notices, 2 unread")
        await expect(nav).to_be_visible()
        await nav.focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/ui/notices")
        await expect(page.locator("#notices-summary")).to_contain_text("2 unread")
        items = page.locator(".notice-item")
        await expect(items).to_have_count(2)
        link = items.first.get_by_role("link", name=f"Open conversation #{result.conversation_id}")
        await expect(link).to_have_attribute("href", f"/ui/conversations/{result.conversation_id}")
        await assert_accessible(page, "/ui/notices at 390px")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways at 390 px ({width} px)"
        await page.screenshot(path=artifact("notices-390.png"), full_page=True)

        await items.first.get_by_role("button", name="Mark notice").focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("status")).to_contain_text("Marked read")
        await expect(page.get_by_role("link", name="Notices, 1 unread")).to_be_visible()
        await page.get_by_role("button", name="Mark all read").focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("#notices-summary")).to_contain_text("Nothing unread")
        await expect(page.get_by_role("link", name="Notices", exact=True)).to_be_visible()
        await expect(page.locator(".notice-item.unread")).to_have_count(0)


async def test_a_live_sla_notice_pops_up_then_fades_out_of_reach(
    desk: Desk, browser: Browser
) -> None:
    """A live notice is a status region holding a link named by its text (axe failed the inbox
    on a phone with SLA warnings on it: the link itself had the role and so no name), and it
    goes after a while."""
    async with asyncio.timeout(LIMIT_SECONDS):
        page = await signed_in_page(desk, browser, "sam@example.com", role=Role.SUPERVISOR)
        result = await inbound(desk, "Where is my order?")
        await page.clock.install()
        await page.goto("/ui/inbox")
        await expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
        async with desk.db.writer() as session:
            sam = await agent_by_email(session, "sam@example.com")
            conversation = await session.get(Conversation, result.conversation_id)
            assert sam is not None and conversation is not None
            text = "SLA at risk: first response due soon"
            await publish(
                session,
                "notice",
                conversation,
                desk.hub.clock.now(),
                agent_ids=[sam.id],
                notice="sla_warning",
                text=text,
                recipients=[sam.id],
            )
            await session.commit()
        desk.hub.events.wake()
        toast = page.get_by_role("status").filter(has_text=text)
        await expect(toast).to_be_visible()
        # A link with its text as its name (as a link with the role "status" it had none).
        await expect(toast.get_by_role("link", name=text)).to_be_visible()
        await assert_accessible(page, "inbox with a notice")

        await page.clock.run_for(9_000)  # it fades, then goes
        await expect(page.locator(".toast")).to_have_count(0)
        await page.context.close()

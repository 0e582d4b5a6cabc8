"""The admin console's people pages in a real browser: an admin invites an agent, the invited
agent chooses a password through the one-time link and signs in; deactivating an agent signs
them out (their open page goes to sign-in by itself) and re-routes their open conversation to a
colleague. The pages fit a 390-pixel-wide
phone. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, expect

from hub.db.models import Presence, Role
from tests.browser.conftest import STEP_MS, artifact, signed_in_page
from tests.hub.web.ui.conftest import inbound
from tests.support.desk import Desk

LIMIT_SECONDS = 120
CHOSEN = "my-own-new-password"


async def _overflow(page: object) -> int:
    return int(
        await page.evaluate(  # type: ignore[attr-defined]
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


async def test_an_admin_invites_an_agent_who_sets_a_password_and_signs_in(
    desk: Desk, browser: Browser
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        admin = await signed_in_page(desk, browser, "ada@example.com", role=Role.ADMIN, teams=())
        await admin.click("nav.mainnav >> text=Admin")
        await admin.wait_for_url("**/ui/admin")
        invite_item = admin.locator('li[data-check="agents"]')
        await expect(invite_item).to_have_class("todo")
        await invite_item.locator("a").click()
        await admin.wait_for_url("**/ui/admin/agents")

        await admin.fill("#new-email", "kim@example.com")
        await admin.fill("#new-name", "Kim Lee")
        await admin.select_option("#new-role", "agent")
        await admin.check("input[name=team] >> nth=0")
        await admin.press("#new-skills", "Enter")  # the keyboard submits the form
        await expect(admin.locator("#link-title")).to_have_text("Invitation created")
        link = await admin.locator("#one-time-link").input_value()
        assert "/ui/password/" in link
        assert desk.smtp is not None
        [mail] = await desk.smtp.wait_for(1)
        assert link in mail.text()
        await admin.screenshot(path=artifact("admin-invited.png"), full_page=True)

        await admin.set_viewport_size({"width": 390, "height": 844})
        await admin.goto("/ui/admin/agents")
        assert await _overflow(admin) <= 0, "the agents page is wider than a phone"
        await admin.screenshot(path=artifact("admin-agents-390.png"), full_page=True)

        context = await browser.new_context(
            base_url=str(desk.client.make_url("/")).rstrip("/"),
            viewport={"width": 390, "height": 844},
        )
        kim = await context.new_page()
        kim.set_default_timeout(STEP_MS)
        await kim.goto(
            link[link.index("/ui/password/") :]
        )  # the hub's public_url is not the test's
        await expect(kim.locator("h1")).to_have_text("Welcome! Choose your password")
        await kim.fill("#password", CHOSEN)
        await kim.fill("#confirm", "something-else")
        await kim.click("button[type=submit]")
        await expect(kim.locator("#confirm-error")).to_have_text(
            "the two passwords are not the same"
        )
        await kim.fill("#password", CHOSEN)
        await kim.fill("#confirm", CHOSEN)
        await kim.click("button[type=submit]")
        await expect(kim.locator("h1")).to_have_text("Password set")
        await kim.get_by_role("link", name="Sign in").click()
        await kim.fill("#email", "kim@example.com")
        await kim.fill("#password", CHOSEN)
        await kim.click("button[type=submit]")
        await kim.wait_for_url("**/ui/inbox")
        await expect(kim.locator(".me")).to_contain_text("Kim Lee")
        await context.close()

        await admin.set_viewport_size({"width": 1440, "height": 900})
        await admin.goto("/ui/admin")
        await expect(admin.locator('li[data-check="agents"]')).to_have_class("done")
        await admin.screenshot(path=artifact("admin-start.png"), full_page=True)


async def test_deactivation_signs_the_agent_out_and_reroutes_their_conversation(
    desk: Desk, browser: Browser
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        leaver = await signed_in_page(desk, browser, "leaver@example.com")
        result = await inbound(desk, "Where is my parcel?", email="ann@customer.example")
        conversation = await desk.conversation(result.conversation_id)
        assert conversation.assignee_id is not None
        leaver_id = conversation.assignee_id
        colleague_id, _ = await desk.agent("colleague@example.com", presence=Presence.ONLINE)
        await leaver.goto(f"/ui/conversations/{conversation.id}")
        await expect(leaver.locator("body")).to_contain_text("Where is my parcel?")
        await expect(leaver.locator("#live-state")).to_have_attribute("data-state", "live")

        admin = await signed_in_page(desk, browser, "ada@example.com", role=Role.ADMIN, teams=())
        await admin.goto("/ui/admin/agents")
        await admin.click("text=Leaver")
        await admin.click("text=Deactivate…")
        await expect(admin.locator("main")).to_contain_text(
            "1 open conversation go back through routing"
        )
        await admin.click("button.btn-danger")
        await expect(admin.locator(".toast")).to_contain_text("Agent deactivated")
        await expect(admin.locator("h1 .badge")).to_have_text("deactivated")
        await admin.screenshot(path=artifact("admin-deactivated.png"), full_page=True)
        await admin.goto("/ui/admin/audit")
        await expect(admin.locator("table.audit")).to_contain_text("deactivate")
        await admin.screenshot(path=artifact("admin-audit.png"), full_page=True)

        moved = await desk.conversation(conversation.id)
        assert moved.assignee_id == colleague_id != leaver_id
        await admin.goto(f"/ui/conversations/{conversation.id}")
        await expect(admin.locator("body")).to_contain_text(
            "Reassigned: the assignee was deactivated"
        )

        await leaver.wait_for_url("**/ui/login**")  # the open page signs itself out
        await leaver.fill("#email", "leaver@example.com")
        await leaver.fill("#password", "correct-horse-battery")
        await leaver.click("button[type=submit]")
        await expect(leaver.locator(".alert")).to_contain_text("do not match an active account")

"""The chat widget in real Chromium: a visitor opens /widget/chat, sends a message (acknowledged
once stored), an agent's API reply appears in their window without a reload, and after a reload
the visitor is remembered with their history. A site embedding embed.js gets a launcher that
opens the chat in an iframe. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web
from playwright.async_api import Browser, expect
from sqlalchemy import select

from hub.db.models import Message, Role
from tests.browser.conftest import STEP_MS, artifact, signed_in_page
from tests.conftest import AiohttpClient, auth, make_settings
from tests.support.desk import Desk, MakeDesk
from tests.support.poll import eventually
from tests.support.smtp import SmtpSink

LIMIT_SECONDS = 90


async def _reply(desk: Desk, token: str, conversation_id: int, text: str) -> None:
    response = await desk.client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        headers=auth(token),
    )
    assert response.status == 201, await response.text()


async def test_a_visitor_chats_and_an_agent_reply_appears_live(
    desk: Desk, browser: Browser
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        _, token = await desk.agent("sam@example.com", role=Role.SUPERVISOR)
        context = await browser.new_context(
            base_url=str(desk.client.make_url("/")).rstrip("/"),
            viewport={"width": 420, "height": 640},
        )
        page = await context.new_page()
        page.set_default_timeout(STEP_MS)
        await page.goto("/widget/chat")
        await expect(page.locator("#rdw")).to_have_attribute("data-state", "live")
        await page.evaluate("window.__sameDocument = true")

        await page.fill("#rdw-text", "Hi! Is the blue kettle back in stock?")
        await page.click("#rdw-send")
        mine = page.locator(".rdw-visitor", has_text="Is the blue kettle back in stock?")
        await expect(mine).to_have_attribute("data-id", re.compile(r"^\d+$"))
        message_id = int(await mine.get_attribute("data-id") or 0)
        async with desk.hub.db.reader() as session:
            stored = await session.get(Message, message_id)
            assert stored is not None and stored.channel == "chat"
            conversation_id = stored.conversation_id

        # Live, without a reload (the reply latency is measured by bench.chat, not here).
        await _reply(desk, token, conversation_id, "Yes, it arrived this morning!")
        answer = page.locator(".rdw-agent", has_text="Yes, it arrived this morning!")
        await expect(answer).to_be_visible(timeout=5_000)
        assert await page.evaluate("window.__sameDocument") is True  # no reload
        await expect(answer).to_contain_text("Sam")
        await page.screenshot(path=artifact("widget.png"), full_page=True)

        await page.reload()  # remembered: the same visitor, with the history
        await expect(page.locator("#rdw")).to_have_attribute("data-state", "live")
        await expect(page.locator(".rdw-agent", has_text="it arrived this morning")).to_be_visible()
        await expect(page.locator(".rdw-visitor", has_text="blue kettle")).to_have_count(1)
        async with desk.hub.db.reader() as session:
            inbound = list(
                await session.scalars(select(Message.id).where(Message.direction == "inbound"))
            )
        assert inbound == [message_id]
        await context.close()


async def test_a_site_embeds_the_launcher_and_the_chat_iframe(
    database_url: str,
    smtp_sink: SmtpSink,
    aiohttp_client: AiohttpClient,
    make_desk: MakeDesk,
    browser: Browser,
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        # The shop and the hub are two origins: the shop on localhost, the hub on 127.0.0.1.
        shop_page: dict[str, str] = {}

        async def index(_request: web.Request) -> web.Response:
            return web.Response(text=shop_page["html"], content_type="text/html")

        shop_app = web.Application()
        shop_app.router.add_get("/", index)
        shop = await aiohttp_client(shop_app)
        shop_origin = str(shop.make_url("/")).rstrip("/").replace("127.0.0.1", "localhost")
        settings = make_settings(
            database_url,
            **{
                "channels.mail.smtp_port": smtp_sink.port,
                "channels.chat.allowed_origins": [shop_origin],
            },
        )
        desk = await make_desk(settings=settings)
        hub_client = desk.client
        hub_origin = str(hub_client.make_url("/")).rstrip("/")

        shop_page["html"] = (
            "<!doctype html><html><body><h1>Kettle shop</h1>"
            f'<script src="{hub_origin}/widget/chat/embed.js" async></script></body></html>'
        )

        context = await browser.new_context(viewport={"width": 1024, "height": 760})
        page = await context.new_page()
        page.set_default_timeout(STEP_MS)
        await page.goto(shop_origin + "/")
        launcher = page.locator("#relaydesk-widget-launcher")
        await expect(launcher).to_have_text("Chat with us")
        await launcher.click()
        chat = page.frame_locator("#relaydesk-widget-frame")
        await expect(chat.locator("#rdw")).to_have_attribute("data-state", "live")
        await chat.locator("#rdw-text").fill("Hello from the shop page")
        await chat.locator("#rdw-send").click()
        await expect(
            chat.locator(".rdw-visitor[data-id]", has_text="Hello from the shop page")
        ).to_be_visible()
        await page.screenshot(path=artifact("widget-embedded.png"))
        async with desk.hub.db.reader() as session:
            texts = list(await session.scalars(select(Message.text)))
        assert "Hello from the shop page" in texts
        await context.close()


async def test_an_inbox_reply_reaches_the_visitor_and_shows_as_sent(
    desk: Desk, browser: Browser
) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        context = await browser.new_context(
            base_url=str(desk.client.make_url("/")).rstrip("/"),
            viewport={"width": 420, "height": 640},
        )
        visitor = await context.new_page()
        visitor.set_default_timeout(STEP_MS)
        await visitor.goto("/widget/chat")
        await expect(visitor.locator("#rdw")).to_have_attribute("data-state", "live")
        await visitor.fill("#rdw-text", "My parcel says delivered but it is not here.")
        await visitor.press("#rdw-text", "Enter")
        mine = visitor.locator(".rdw-visitor", has_text="it is not here")
        await expect(mine).to_have_attribute("data-id", re.compile(r"^\d+$"))
        async with desk.hub.db.reader() as session:
            stored = await session.get(Message, int(await mine.get_attribute("data-id") or 0))
            assert stored is not None
            conversation_id = stored.conversation_id

        agent = await signed_in_page(desk, browser, "sam@example.com", role=Role.SUPERVISOR)
        await agent.goto(f"/ui/conversations/{conversation_id}")
        await expect(agent.locator(".msg-inbound")).to_contain_text("it is not here")
        await agent.fill("#composer-text", "Sorry! We are asking the courier now.")
        await agent.click("[data-send]")
        await expect(agent.locator(".toast")).to_have_text("Reply queued for delivery.")
        await agent.evaluate("window.__sameDocument = true")
        await expect(
            visitor.locator(".rdw-agent", has_text="asking the courier now")
        ).to_be_visible(timeout=5_000)
        async with desk.hub.db.reader() as session:
            reply_id = await session.scalar(
                select(Message.id).where(Message.text.contains("asking the courier now"))
            )
        assert reply_id is not None

        async def delivered() -> bool:
            async with desk.hub.db.reader() as session:
                message = await session.get(Message, reply_id)
                return message is not None and message.delivery_state == "sent"

        await eventually(delivered, what="the reply recorded as sent")
        # The agent's open page learns it live, without a reload.
        sent = agent.locator(".msg-outbound", has_text="asking the courier now")
        await expect(sent.locator(".delivery .state")).to_have_text("Sent", timeout=5_000)
        assert await agent.evaluate("window.__sameDocument") is True
        await agent.screenshot(path=artifact("widget-inbox-reply.png"), full_page=True)
        await context.close()

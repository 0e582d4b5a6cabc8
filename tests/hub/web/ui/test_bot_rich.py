"""The agent sees what the customer saw: a bot's card and buttons, drawn in the widget, show on
the conversation page as a card and chips that cannot be pressed; on email the customer got the
numbered text, and that is what the page shows."""

from __future__ import annotations

from tests.channels.web.widget_client import Visitor
from tests.hub.bots.conftest import fake_bot, register  # noqa: F401  (the fixture)
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk
from tests.support.fake_bot import FakeBot

CARD = {
    "title": "Kettle Pro",
    "text": "Boils in 90 seconds.",
    "image": "https://shop.example.com/kettle.png",
    "buttons": [
        {"title": "Buy it", "payload": "buy_kettle"},
        {"title": "Specs", "url": "https://shop.example.com/kettle"},
    ],
}


async def test_an_agent_sees_the_bots_card_and_buttons_as_the_visitor_saw_them(
    desk: Desk,
    ui_agent: UiFactory,
    fake_bot: FakeBot,  # noqa: F811
) -> None:
    sue = await ui_agent("sue@example.com")
    await register(desk, name="shop", kind="webhook", url=fake_bot.url("/events"),
                   channels=["chat", "mail"])  # fmt: skip
    fake_bot.answer = lambda body: (
        {"messages": [{"card": CARD}]} if body["event"] == "message.created" else {}
    )
    visitor = Visitor(desk.client, "/widget/chat/ws")
    await visitor.connect()
    await visitor.message("kettles?", "c-1")
    await desk.run_jobs()
    await visitor.agent_text("Boils in 90 seconds.")
    await visitor.close()
    cid = (await desk.inbound_messages())[-1].conversation_id
    page = await sue.page(f"/ui/conversations/{cid}")
    assert "data-bot-rich" in page
    assert "data-card-title>Kettle Pro</figcaption>" in page
    assert '<img src="https://shop.example.com/kettle.png" alt="Kettle Pro"' in page
    assert page.count("data-bot-button") == 2
    assert (
        "Buy it" in page
        and "buy_kettle" in page
        and 'href="https://shop.example.com/kettle"' in page
    )
    assert "<button" not in page.split("data-bot-rich", 1)[1].split("</div>", 1)[0]

    mailed = (await inbound(desk, "and on email?")).conversation_id
    await desk.run_jobs()
    page = await sue.page(f"/ui/conversations/{mailed}")
    assert "data-bot-rich" not in page
    assert "1. Buy it" in page and "2. Specs (https://shop.example.com/kettle)" in page

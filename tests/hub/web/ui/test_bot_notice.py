"""Agents notice a handoff: the inbox row of a conversation a bot handed over is highlighted with
the reason until a person answers, and the conversation page shows the reason and the exchange
with the bot before it."""

from __future__ import annotations

from tests.hub.bots.conftest import fake_bot, register  # noqa: F401  (the fixture)
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk
from tests.support.fake_bot import FakeBot


async def test_the_inbox_and_the_page_show_why_a_bot_handed_over(
    desk: Desk,
    ui_agent: UiFactory,
    fake_bot: FakeBot,  # noqa: F811
) -> None:
    sue = await ui_agent("sue@example.com")
    await register(desk, name="helper", kind="webhook", url=fake_bot.url("/events"),
                   channels=["mail"])  # fmt: skip
    fake_bot.answer = lambda body: (
        {"messages": [{"text": "Have you tried turning it off and on?"}]}
        if body["event"] == "message.created"
        else {}
    )
    cid = (await inbound(desk, "My router blinks red")).conversation_id
    await desk.run_jobs()
    await inbound(desk, "That did not help, I want to talk to a person")
    inbox = await sue.page("/ui/inbox?view=all")
    row = inbox[inbox.index(f'data-id="{cid}"') - 200 : inbox.index(f'data-id="{cid}"') + 1500]
    assert "handed-over" in row
    assert "Handed over by bot: the customer asked for a person" in row

    page = await sue.page(f"/ui/conversations/{cid}")
    notice = page[page.index("data-bot-notice") :]
    notice = notice[: notice.index("</section>")]
    assert "Handed over by bot helper" in notice
    assert 'data-handoff-reason="customer_asked"' in notice
    assert "<strong>customer:</strong> My router blinks red" in notice
    assert "<strong>helper:</strong> Have you tried turning it off and on?" in notice
    assert "I want to talk to a person" in notice

    reply = await sue.post(f"/ui/conversations/{cid}/reply", {"text": "Hi, Sue here."})
    assert reply.status == 303
    inbox = await sue.page("/ui/inbox?view=all")
    assert "Handed over by bot" not in inbox

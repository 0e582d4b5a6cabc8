"""The conversation page shows who holds a bot conversation and why it was handed over, and an
agent hands it back to the bot with one button."""

from __future__ import annotations

from hub.db.bots_models import BotSession
from tests.hub.bots.conftest import fake_bot, register  # noqa: F401  (the fixture)
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk
from tests.support.fake_bot import FakeBot


async def test_an_agent_sees_the_handoff_and_hands_back(
    desk: Desk,
    ui_agent: UiFactory,
    fake_bot: FakeBot,  # noqa: F811
) -> None:
    sue = await ui_agent("sue@example.com")
    await register(desk, name="helper", kind="webhook", url=fake_bot.url("/events"),
                   channels=["mail"])  # fmt: skip
    cid = (await inbound(desk, "I want to talk to a person")).conversation_id
    page = await sue.page(f"/ui/conversations/{cid}")
    assert "Bot helper: handed over, waiting for a person" in page
    assert "(the customer asked for a person)" in page
    assert "Hand back to bot helper" in page
    response = await sue.post(f"/ui/conversations/{cid}/handback")
    assert response.status == 303
    async with desk.db.reader() as session:
        state = await session.get(BotSession, cid)
        assert state is not None and state.state == "bot"
    page = await sue.page(f"/ui/conversations/{cid}")
    assert "Bot helper: the bot is answering" in page
    assert "Hand back to bot helper" not in page
    unsigned = await sue.http.post(f"/ui/conversations/{cid}/handback", allow_redirects=False)
    assert unsigned.status in (403, 400)

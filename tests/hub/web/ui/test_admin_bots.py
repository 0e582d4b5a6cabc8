"""The admin console's bot pages: an admin registers a bot from the browser and sees its token
and signing secret once, changes its channels, hours and limits (refusals beside their field,
nothing saved), disables it without a restart, rotates its credentials and reads its latest
deliveries; every change is in the audit log without a secret; other roles are refused."""

from __future__ import annotations

import re

from hub.db.bots_models import Bot, BotDelivery
from hub.db.models import Role
from tests.hub.web.ui.conftest import UiFactory
from tests.support.desk import Desk, auth

NEW = {
    "name": "helper", "kind": "webhook", "url": "http://127.0.0.1:9/events", "hours": "always",
    "timeout_ms": "3000", "max_errors": "2", "max_turns_without_progress": "3", "enabled": "on",
}  # fmt: skip


def credential(page: str, what: str) -> str:
    found = re.search(rf'value="([^"]+)" data-{what}', page)
    assert found, page
    return found.group(1)


async def speaks(desk: Desk, token: str) -> int:
    """What the API answers the bot's token (404: known bot, no such conversation)."""
    answer = await desk.client.post(
        "/api/v1/bots/conversations/987654/messages", json={"text": "hi"}, headers=auth(token)
    )
    return answer.status


async def test_an_admin_registers_and_runs_a_bot_from_the_browser(
    desk: Desk, ui_agent: UiFactory
) -> None:
    ada = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
    page = await ada.page("/ui/admin/bots")
    assert "No bot yet" in page and 'href="/ui/admin/bots" aria-current="page"' in page

    bad = await ada.post("/ui/admin/bots", {**NEW, "name": "no spaces please", "timeout_ms": "x"})
    assert bad.status == 422
    text = await bad.text()
    assert 'id="new-name-error"' in text and 'id="new-timeout_ms-error"' in text
    assert "a whole number" in text and 'value="no spaces please"' in text
    nourl = await ada.post("/ui/admin/bots", {**NEW, "url": ""})
    assert nourl.status == 422 and "a webhook or Rasa bot needs a URL" in await nourl.text()
    assert await desk.count(Bot) == 0

    made = await ada.post("/ui/admin/bots", [*NEW.items(), ("channels", "mail")])
    assert made.status == 201, await made.text()
    shown = await made.text()
    token, secret = credential(shown, "token"), credential(shown, "secret")
    assert token.startswith("rdb_") and await speaks(desk, token) == 404
    again = await ada.page(re.findall(r'action="(/ui/admin/bots/\d+)"', shown)[0])
    assert token not in again and secret not in again and "Nothing delivered yet" in again
    bot_id = int(re.findall(r"/ui/admin/bots/(\d+)", shown)[0])
    base = f"/ui/admin/bots/{bot_id}"

    taken = await ada.post("/ui/admin/bots", {**NEW, "channels": "api"})
    assert taken.status == 409 and "a bot of that name exists" in await taken.text()

    unknown = await ada.post(base, {**NEW, "hours": "nights", "channels": "mail"})
    assert unknown.status == 422 and "unknown calendar &#39;nights&#39;" in await unknown.text()
    saved = await ada.post(
        base,
        [*{**NEW, "hours": "office", "handback_on_resolve": "on"}.items(),
         ("channels", "mail"), ("channels", "api")],
    )  # fmt: skip
    assert saved.status == 303
    async with desk.db.reader() as session:
        bot = await session.get(Bot, bot_id)
        assert bot is not None
        assert (bot.hours, bot.channels, bot.handback_on_resolve) == (
            "office",
            ["mail", "api"],
            True,
        )
        assert (bot.max_turns_without_progress, bot.timeout_ms, bot.enabled) == (3, 3000, True)
        session.add(
            BotDelivery(
                bot_id=bot_id, conversation_id=None, event="message.created", attempt=1,
                outcome="error", http_status=503, error="the bot answered HTTP 503", bot_ms=41,
                created_at=desk.hub.clock.now(),
            )
        )  # fmt: skip
        await session.commit()

    assert (await ada.post(f"{base}/enabled", {})).status == 303
    page = await ada.page(f"{base}?notice=bot_disabled")
    assert 'data-bot-enabled="no"' in page and "Bot disabled" in page
    assert "the bot answered HTTP 503" in page and 'data-outcome="error"' in page
    async with desk.db.reader() as session:
        bot = await session.get(Bot, bot_id)
        assert bot is not None and not bot.enabled

    rotated = await ada.post(f"{base}/credentials", {})
    assert rotated.status == 200
    new_token = credential(await rotated.text(), "token")
    assert new_token != token
    assert await speaks(desk, token) == 401 and await speaks(desk, new_token) == 404

    audit = await ada.page("/ui/admin/audit?area=bots")
    for action in ("create", "update", "rotate"):
        assert f"{action} · " in audit
    assert token not in audit and secret not in audit and new_token not in audit


async def test_only_admins_see_the_bot_pages(desk: Desk, ui_agent: UiFactory) -> None:
    sam = await ui_agent("sam@example.com", role=Role.SUPERVISOR)
    assert (await sam.get("/ui/admin/bots")).status == 403
    assert (await sam.post("/ui/admin/bots", NEW)).status == 403

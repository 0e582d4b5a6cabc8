"""Long polling for hosts without a public URL: getUpdates against the fake Bot API, with the
offset moved past an update only once its message is committed."""

from __future__ import annotations

from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from hub.config.settings import Settings
from hub.db.models import Message
from hub.web.keys import HUB
from tests.channels.telegram.conftest import as_update, telegram_fixture, telegram_overrides
from tests.conftest import make_settings
from tests.support.desk import build_app
from tests.support.fake_telegram import FakeTelegram
from tests.support.poll import eventually


def _polling_settings(database_url: str, fake: FakeTelegram) -> Settings:
    overrides = telegram_overrides(
        fake, mode="polling", webhook_secret="", poll_timeout_seconds=1, poll_retry_seconds=0.1
    )
    return make_settings(database_url, **overrides)


async def _count_inbound(server: TestServer) -> int:
    async with server.app[HUB].db.reader() as session:
        count = await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "inbound")
        )
        return int(count or 0)


async def test_updates_are_confirmed_only_after_they_are_stored(
    database_url: str, fake_telegram: FakeTelegram
) -> None:
    server = TestServer(build_app(_polling_settings(database_url, fake_telegram)))
    stored_when_confirmed: list[int] = []
    offsets: list[int | None] = []

    async def on_poll(offset: int | None) -> None:
        offsets.append(offset)
        if offset == 306197399:
            stored_when_confirmed.append(await _count_inbound(server))

    fake_telegram.on_get_updates = on_poll
    await server.start_server()
    try:
        await fake_telegram.queue_update(
            telegram_fixture("teloxide", "update_private_text_message.json")
        )

        async def confirmed() -> bool:
            return bool(stored_when_confirmed)

        await eventually(confirmed, what="offset moved past the update")
        assert stored_when_confirmed == [1]
        assert fake_telegram.calls[0].method == "deleteWebhook"  # getUpdates needs no webhook
        assert offsets[0] is None
    finally:
        await server.close()

    # After a restart the offset is gone and Telegram hands the update out again: stored once.
    fake_telegram.on_get_updates = None
    await fake_telegram.queue_update(
        telegram_fixture("teloxide", "update_private_text_message.json")
    )
    restarted = TestServer(build_app(_polling_settings(database_url, fake_telegram)))
    await restarted.start_server()
    try:

        async def drained() -> bool:
            return not fake_telegram.updates

        await fake_telegram.queue_update(
            as_update(306197400, telegram_fixture("aiogram-v2-dataset", "message.json"))
        )
        await eventually(drained, what="both updates confirmed")
        assert await _count_inbound(restarted) == 2
    finally:
        await restarted.close()


async def test_button_pressed_while_polling_is_answered_after_storing(
    database_url: str, fake_telegram: FakeTelegram
) -> None:
    server = TestServer(build_app(_polling_settings(database_url, fake_telegram)))
    await server.start_server()
    try:
        query = telegram_fixture("teloxide", "callback_query.json")
        await fake_telegram.queue_update(as_update(900, query, "callback_query"))
        [answer] = await fake_telegram.wait_for("answerCallbackQuery", 1)
        assert answer.params["callback_query_id"] == "id"
        assert await _count_inbound(server) == 1
    finally:
        await server.close()

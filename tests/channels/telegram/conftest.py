"""The hub with a Telegram channel ``tg`` whose Bot API is the local fake server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import ClientResponse

from hub.config.settings import Settings
from tests.conftest import make_settings
from tests.support.desk import Desk, MakeDesk
from tests.support.fake_provider import channel_overrides, fake_fixture, fixture_json
from tests.support.fake_telegram import FakeTelegram

SECRET = "webhook-secret_0123456789abcdefABCDEF"


def telegram_fixture(folder: str, name: str) -> dict[str, Any]:
    return fixture_json(folder, name)


def as_update(update_id: int, message: dict[str, Any], kind: str = "message") -> dict[str, Any]:
    """aiogram's dataset holds bare Message objects: wrap one as Telegram delivers it."""
    return {"update_id": update_id, kind: message}


def telegram_overrides(fake: FakeTelegram, **extra: Any) -> dict[str, Any]:
    defaults = {
        "webhook_secret": SECRET,
        "chat_interval_seconds": 0.0,
        "group_interval_seconds": 0.0,
    }
    return channel_overrides("tg", fake.channel_config(), **defaults | extra)


fake_telegram = fake_fixture(FakeTelegram)


@pytest.fixture
def telegram_settings(database_url: str, fake_telegram: FakeTelegram) -> Settings:
    return make_settings(database_url, **telegram_overrides(fake_telegram))


@pytest.fixture
async def tg(telegram_settings: Settings, make_desk: MakeDesk) -> Desk:
    return await make_desk(settings=telegram_settings)


async def post_update(
    desk: Desk, update: dict[str, Any] | bytes, secret: str | None = SECRET
) -> ClientResponse:
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return await desk.client.post("/webhooks/telegram/tg", data=body, headers=headers)

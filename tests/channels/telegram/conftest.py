"""The hub with a Telegram channel ``tg`` whose Bot API is the local fake server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientResponse
from sqlalchemy import select

from hub.db.models import Message
from hub.settings import Settings
from hub.web.app import create_app
from hub.web.keys import HUB
from tests.conftest import FIXTURES, AiohttpClient, Running, make_settings
from tests.support.fake_telegram import TOKEN, FakeTelegram

SECRET = "webhook-secret_0123456789abcdefABCDEF"


def telegram_fixture(folder: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / folder / name).read_text(encoding="utf-8"))
    return data


def as_update(update_id: int, message: dict[str, Any], kind: str = "message") -> dict[str, Any]:
    """aiogram's dataset holds bare Message objects: wrap one as Telegram delivers it."""
    return {"update_id": update_id, kind: message}


def telegram_overrides(fake: FakeTelegram, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "channels.tg.kind": "telegram",
        "channels.tg.title": "Telegram",
        "channels.tg.bot_token": TOKEN,
        "channels.tg.base_url": fake.base_url,
        "channels.tg.webhook_secret": SECRET,
        "channels.tg.ack_template": "",
        "channels.tg.chat_interval_seconds": 0.0,
        "channels.tg.group_interval_seconds": 0.0,
    }
    values.update({f"channels.tg.{key}": value for key, value in extra.items()})
    return values


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def telegram_settings(database_url: str, fake_telegram: FakeTelegram) -> Settings:
    return make_settings(database_url, **telegram_overrides(fake_telegram))


@pytest.fixture
async def tg(telegram_settings: Settings, aiohttp_client: AiohttpClient) -> Running:
    client = await aiohttp_client(create_app(telegram_settings))
    return Running(client, client.app[HUB])


async def post_update(
    running: Running, update: dict[str, Any] | bytes, secret: str | None = SECRET
) -> ClientResponse:
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return await running.client.post("/webhooks/telegram/tg", data=body, headers=headers)


async def inbound_messages(running: Running) -> list[Message]:
    async with running.hub.db.reader() as session:
        rows = await session.scalars(
            select(Message).where(Message.direction == "inbound").order_by(Message.id)
        )
        return list(rows.all())

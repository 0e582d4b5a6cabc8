"""The hub with a Slack channel ``sl`` whose Web API is the local fake server; Events API
deliveries are signed for real with the channel's signing secret."""

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
from tests.support.fake_slack import BOT_USER_ID, SIGNING_SECRET, TOKEN, FakeSlack, signed_headers


def slack_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (FIXTURES / "slack-bolt-python" / name).read_text(encoding="utf-8")
    )
    return data


def slack_overrides(fake: FakeSlack, **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "channels.sl.kind": "slack",
        "channels.sl.title": "Slack",
        "channels.sl.bot_token": TOKEN,
        "channels.sl.signing_secret": SIGNING_SECRET,
        "channels.sl.base_url": fake.base_url,
        "channels.sl.bot_user_id": BOT_USER_ID,
        "channels.sl.ack_template": "",
        "channels.sl.channel_interval_seconds": 0.0,
    }
    values.update({f"channels.sl.{key}": value for key, value in extra.items()})
    return values


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def slack_settings(database_url: str, fake_slack: FakeSlack) -> Settings:
    return make_settings(database_url, **slack_overrides(fake_slack))


@pytest.fixture
async def sl(slack_settings: Settings, aiohttp_client: AiohttpClient) -> Running:
    client = await aiohttp_client(create_app(slack_settings))
    return Running(client, client.app[HUB])


async def post_event(
    running: Running,
    payload: dict[str, Any] | bytes,
    *,
    headers: dict[str, str] | None = None,
    extra_headers: dict[str, str] | None = None,
) -> ClientResponse:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sent = signed_headers(body) if headers is None else headers
    sent = sent | (extra_headers or {})
    return await running.client.post("/webhooks/slack/sl", data=body, headers=sent)


async def inbound_messages(running: Running) -> list[Message]:
    async with running.hub.db.reader() as session:
        rows = await session.scalars(
            select(Message).where(Message.direction == "inbound").order_by(Message.id)
        )
        return list(rows.all())

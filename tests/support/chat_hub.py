"""What the chat channel tests share: a channel's settings over a fake provider, the hub
running behind aiohttp's test client, and the inbound messages it stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest
from sqlalchemy import select

from hub.config.settings import Settings
from hub.db.models import Message
from tests.conftest import FIXTURES, AiohttpClient
from tests.support.desk import Desk, build_app
from tests.support.fake_provider import Fake, serving


def fixture_json(folder: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / folder / name).read_text(encoding="utf-8"))
    return data


def channel_overrides(channel: str, values: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    merged = {**values, **extra}
    return {f"channels.{channel}.{key}": value for key, value in merged.items()}


async def run_hub(settings: Settings, aiohttp_client: AiohttpClient) -> Desk:
    return Desk(await aiohttp_client(build_app(settings)))


async def message_by_id(desk: Desk, message_id: int) -> Message:
    async with desk.hub.db.reader() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        return message


async def inbound_messages(desk: Desk) -> list[Message]:
    async with desk.hub.db.reader() as session:
        rows = await session.scalars(
            select(Message).where(Message.direction == "inbound").order_by(Message.id)
        )
        return list(rows.all())


def fake_fixture(make: Callable[[], Fake]) -> Any:
    """A fixture serving a fresh fake provider for one test: ``fake_x = fake_fixture(FakeX)``."""

    @pytest.fixture
    async def fixture() -> AsyncIterator[Fake]:
        async with serving(make()) as fake:
            yield fake

    return fixture

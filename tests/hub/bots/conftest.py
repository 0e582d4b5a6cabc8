"""Bot stories: the routing stories' quiet Monday desk, a fake bot on a local HTTP server, and
an admin who registers it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from hub.db.models import Role
from tests.hub.routing.conftest import make_desk  # noqa: F401  (the quiet Monday desk)
from tests.support.desk import Desk, auth
from tests.support.fake_bot import FakeBot
from tests.support.fake_provider import fake_fixture
from tests.support.fake_telegram import FakeTelegram

fake_telegram = fake_fixture(FakeTelegram)


@pytest.fixture
async def fake_bot() -> AsyncIterator[FakeBot]:
    bot = FakeBot()
    await bot.start()
    yield bot
    await bot.stop()


async def register(desk: Desk, **fields: Any) -> dict[str, Any]:
    """An admin registers a bot; the answer carries its token and secret."""
    _, admin = await desk.agent("bot-admin@example.com", role=Role.ADMIN, capacity=0)
    made = await desk.client.post("/api/v1/bots", json=fields, headers=auth(admin))
    assert made.status == 201, await made.text()
    return dict(await made.json())

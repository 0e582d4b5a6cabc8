"""The hub with a Slack channel ``sl`` whose Web API is the local fake server; Events API
deliveries are signed for real with the channel's signing secret."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import ClientResponse

from hub.config.settings import Settings
from tests.conftest import make_settings
from tests.support.desk import Desk, MakeDesk
from tests.support.fake_provider import channel_overrides, fake_fixture, fixture_json
from tests.support.fake_slack import FakeSlack, signed_headers


def slack_fixture(name: str) -> dict[str, Any]:
    return fixture_json("slack-bolt-python", name)


def slack_overrides(fake: FakeSlack, **extra: Any) -> dict[str, Any]:
    return channel_overrides(
        "sl", fake.channel_config(), **{"channel_interval_seconds": 0.0} | extra
    )


fake_slack = fake_fixture(FakeSlack)


@pytest.fixture
def slack_settings(database_url: str, fake_slack: FakeSlack) -> Settings:
    return make_settings(database_url, **slack_overrides(fake_slack))


@pytest.fixture
async def sl(slack_settings: Settings, make_desk: MakeDesk) -> Desk:
    return await make_desk(settings=slack_settings)


async def post_event(
    desk: Desk,
    payload: dict[str, Any] | bytes,
    *,
    headers: dict[str, str] | None = None,
    extra_headers: dict[str, str] | None = None,
) -> ClientResponse:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sent = signed_headers(body) if headers is None else headers
    sent = sent | (extra_headers or {})
    return await desk.client.post("/webhooks/slack/sl", data=body, headers=sent)

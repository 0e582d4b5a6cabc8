"""A Slack channel whose ``base_url`` points at a loopback address, in a hub that keeps its
outgoing requests to public addresses (production): the hub warns at start naming the setting,
an agent's reply is not posted and fails at once naming the address, not tried again."""

from __future__ import annotations

import logging

import pytest

from hub.db.models import Role
from tests.channels.slack.conftest import post_event, slack_fixture, slack_overrides
from tests.conftest import auth, make_settings
from tests.support.desk import MakeDesk
from tests.support.fake_slack import FakeSlack
from tests.support.poll import eventually

REFUSED = "refused to connect: 127.0.0.1 is a loopback address (see outgoing.allowed_networks)"


async def test_a_reply_through_a_slack_api_on_a_loopback_address_fails_naming_it(
    database_url: str,
    make_desk: MakeDesk,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    production = {"outgoing.allow_private_targets": False}
    settings = make_settings(database_url, **slack_overrides(fake_slack), **production)
    with caplog.at_level(logging.WARNING, logger="hub.assembly"):
        sl = await make_desk(settings=settings)
    said = "channels.sl.base_url: 127.0.0.1 is a loopback address: not allowed"
    assert any(said in record.getMessage() for record in caplog.records)
    _, token = await sl.agent("lead@example.com", role=Role.SUPERVISOR)
    assert (
        await post_event(sl, slack_fixture("event_callback_message_channel.json"))
    ).status == 200
    conversation = (await sl.inbound_messages())[-1].conversation_id
    path = f"/api/v1/conversations/{conversation}/messages"
    answer = await sl.client.post(path, json={"text": "Looking into it."}, headers=auth(token))
    assert answer.status == 201, await answer.text()
    reply_id = (await answer.json())["id"]

    async def failed() -> bool:
        return (await sl.message(reply_id)).delivery_state == "failed"

    await eventually(failed, what="the reply failed")
    error = (await sl.message(reply_id)).delivery_error
    assert error == f"Slack not reached: {REFUSED} (after 1 attempt(s))"
    assert fake_slack.calls == []  # nothing reached the address

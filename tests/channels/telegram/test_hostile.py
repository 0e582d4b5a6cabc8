"""Hostile Telegram webhook bodies: the secret is checked first, then a huge number, NaN or a
deep nesting is refused as bad JSON (400), never a 500, and nothing is stored."""

from __future__ import annotations

import pytest

from tests.channels.telegram.conftest import SECRET
from tests.support.desk import Desk

BODIES = {
    "huge": b'{"update_id": ' + b"7" * 5000 + b"}",
    "nan": b'{"update_id": 1, "message": {"date": NaN}}',
    "infinity": b'{"update_id": 1e999}',
    "deep": b'{"update_id": 1, "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
}


@pytest.mark.parametrize("name", sorted(BODIES))
async def test_hostile_bodies_are_refused_after_the_secret_check(tg: Desk, name: str) -> None:
    url = "/webhooks/telegram/tg"
    body = BODIES[name]
    anonymous = await tg.client.post(url, data=body)
    assert anonymous.status == 401
    response = await tg.client.post(
        url, data=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status == 400, await response.text()
    assert (await response.json())["error"]["code"] == "invalid_json"
    assert await tg.inbound_messages() == []


async def test_a_body_over_the_limit_is_a_413_naming_it(tg: Desk) -> None:
    body = b'{"update_id": 1, "x": "' + b"a" * (tg.settings.web.max_body_bytes + 1) + b'"}'
    response = await tg.client.post(
        "/webhooks/telegram/tg", data=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status == 413
    error = (await response.json())["error"]
    assert error["code"] == "too_large" and str(tg.settings.web.max_body_bytes) in error["message"]

"""Hostile Events API bodies: the signature is checked before the body is parsed, and a signed
body that is deeply nested, holds a huge number or NaN, or is not text, is refused as bad JSON,
never a 500."""

from __future__ import annotations

import pytest

from tests.channels.slack.conftest import post_event
from tests.support.desk import Desk

DEEP = b'{"type": "event_callback", "event": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
HUGE = b'{"type": "event_callback", "event_id": ' + b"9" * 5000 + b"}"
NAN = b'{"type": "event_callback", "event": {"ts": NaN}}'
FORM = b"payload=" + b"%5B" * 5000 + b"%5D" * 5000
BINARY = b"\xff\xfe{not text"


@pytest.mark.parametrize(
    "body", [DEEP, HUGE, NAN, FORM, BINARY], ids=["deep", "huge", "nan", "form", "binary"]
)
async def test_hostile_bodies_are_refused_after_the_signature_check(sl: Desk, body: bytes) -> None:
    unsigned = await post_event(sl, body, headers={"X-Slack-Signature": "v0=00"})
    assert unsigned.status == 401
    assert (await unsigned.json())["error"]["code"] == "invalid_signature"
    signed = await post_event(sl, body)
    assert signed.status == 400, await signed.text()
    error = (await signed.json())["error"]
    assert error["code"] == "invalid_json"
    assert await sl.inbound_messages() == []


async def test_a_body_over_the_limit_is_a_413_naming_it(sl: Desk) -> None:
    body = b'{"type": "event_callback", "x": "' + b"a" * sl.settings.web.max_body_bytes + b'"}'
    response = await post_event(sl, body)
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "too_large"

"""The API channel adapter on its own: parsing a delivery (token, JSON shape, limits) and sending
a reply as signed JSON to a real local HTTP server, with the outcome the outbox acts on."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from ipaddress import ip_network
from typing import Any

import pytest
from pydantic import ValidationError

from channels.api.adapter import ApiChannel, ApiChannelConfig, sign
from channels.base import (
    ChannelRejected,
    IdentityKind,
    InboundRequest,
    OutboundMessage,
    Party,
)
from hub.platform.targets import Targets
from tests.support.recorder import HttpRecorder

TOKEN = "inbound-token-0123456789"
SECRET = "callback-secret"


def channel(**overrides: Any) -> ApiChannel:
    values: dict[str, Any] = {"kind": "api", "token": TOKEN, "signing_secret": SECRET}
    values.update(overrides)
    return ApiChannel("partner", ApiChannelConfig.model_validate(values))


def request(body: Any, token: str = TOKEN) -> InboundRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return InboundRequest(body=raw, headers={"Authorization": f"Bearer {token}"})


def test_parse_normalizes_a_message() -> None:
    [message] = channel().parse(
        request(
            {
                "external_id": " 42 ",
                "from": {"address": " Jane@Example.COM ", "name": "Jane\x07 Cooper\n"},
                "text": "Hello\nthere",
                "thread_key": "order-7",
                "subject": "Order 7",
                "extra": {"kept": True},
            }
        )
    )
    assert message.channel == "partner"
    assert message.external_id == "42"
    assert message.sender == Party(IdentityKind.EMAIL, "jane@example.com", "Jane Cooper")
    assert (message.text, message.thread_key, message.subject) == (
        "Hello\nthere",
        "order-7",
        "Order 7",
    )
    assert message.raw["extra"] == {"kept": True}
    assert message.received_at.tzinfo is not None


def test_parse_with_api_identities_keeps_the_address_trimmed() -> None:
    parser = channel(identity_kind="api")
    [message] = parser.parse(
        request({"external_id": "1", "from": {"address": " u-7 "}, "text": "x"})
    )
    assert message.sender == Party(IdentityKind.API, "u-7", "")
    with pytest.raises(ChannelRejected) as refused:
        parser.parse(request({"external_id": "1", "from": {"address": "  "}, "text": "x"}))
    assert refused.value.fields == {"from.address": "must not be empty"}


@pytest.mark.parametrize(
    ("token", "header"),
    [("wrong-token-0123456789", None), (TOKEN[:-1], None), (None, ""), (None, f"Basic {TOKEN}")],
)
def test_parse_refuses_a_wrong_token(token: str | None, header: str | None) -> None:
    valid = {"external_id": "1", "from": {"address": "a@b.org"}, "text": "x"}
    if header is None:
        delivery = request(valid, token or TOKEN)
    else:
        delivery = InboundRequest(
            body=json.dumps(valid).encode(), headers={"Authorization": header}
        )
    with pytest.raises(ChannelRejected) as refused:
        channel().parse(delivery)
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")


def test_the_token_is_checked_before_the_body() -> None:
    with pytest.raises(ChannelRejected) as refused:
        channel().parse(request(b"not json", "wrong-token-0123456789"))
    assert refused.value.status == 401


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({"from": {"address": "a@b.org"}, "text": "x"}, "external_id", "is required"),
        ({"external_id": "1", "text": "x"}, "from", "is required and must be an object"),
        ({"external_id": "1", "from": {}, "text": "x"}, "from.address", "is required"),
        ({"external_id": "1", "from": {"address": "a@b"}, "text": "x"}, "from.address", "valid"),
        ({"external_id": "1", "from": {"address": "a@b.org"}}, "text", "is required"),
        ({"external_id": "1", "from": {"address": "a@b.org"}, "text": ""}, "text", "empty"),
        ({"external_id": "1", "from": {"address": "a@b.org"}, "text": "é" * 40}, "text", "bytes"),
        ({"external_id": "1", "from": {"address": "a@b.org"}, "text": "x" * 65}, "text", "longer"),
        (
            {"external_id": "1", "from": {"address": "a@b.org"}, "text": "x", "tags": ["\x00"]},
            "tags[0]",
            "NUL",
        ),
    ],
)
def test_parse_names_the_field_at_fault(body: Any, field: str, problem: str) -> None:
    with pytest.raises(ChannelRejected) as refused:
        channel(max_text_bytes=64).parse(request(body))
    assert refused.value.status == 422
    assert refused.value.code == "invalid_field"
    assert problem in refused.value.fields[field]
    assert refused.value.message.startswith(f"{field}: ")


def test_config_requires_a_secret_and_an_http_url_for_callbacks() -> None:
    with pytest.raises(ValidationError, match="signing_secret"):
        channel(callback_url="https://example.com/hook", signing_secret="")
    with pytest.raises(ValidationError, match="callback_url"):
        channel(callback_url="file:///etc/passwd")
    with pytest.raises(ValidationError, match="token"):
        channel(token="short")


@pytest.fixture
async def receiver() -> AsyncIterator[HttpRecorder]:
    recorder = HttpRecorder()
    await recorder.start()
    yield recorder
    await recorder.stop()


OUTBOUND = OutboundMessage(
    message_id=17,
    channel="partner",
    recipient=Party(IdentityKind.EMAIL, "jane@example.com", "Jane"),
    text="Your parcel left today.",
    subject="Re: Order 7",
    thread_key="order-7",
    conversation_id=3,
)


async def test_send_posts_signed_json(receiver: HttpRecorder) -> None:
    sender = channel(callback_url=receiver.url("/hook"))
    try:
        result = await sender.send(OUTBOUND)
    finally:
        await sender.stop()

    assert result.ok and result.external_id == "relaydesk-17"
    [got] = receiver.requests
    assert (got.method, got.path) == ("POST", "/hook")
    timestamp = got.headers["X-Relaydesk-Timestamp"]
    mac = hmac.new(SECRET.encode(), timestamp.encode() + b"." + got.body, hashlib.sha256)
    assert got.headers["X-Relaydesk-Signature"] == "sha256=" + mac.hexdigest()
    assert got.headers["X-Relaydesk-Signature"] == sign(SECRET, timestamp, got.body)
    assert got.headers["Idempotency-Key"] == "relaydesk-17"
    assert got.json() == {
        "message_id": 17,
        "conversation_id": 3,
        "thread_key": "order-7",
        "to": {"address": "jane@example.com", "name": "Jane"},
        "subject": "Re: Order 7",
        "text": "Your parcel left today.",
        "automated": False,
    }


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (503, False), (429, False), (408, False), (400, True), (404, True)],
)
async def test_send_reports_callback_errors(
    receiver: HttpRecorder, status: int, permanent: bool
) -> None:
    receiver.statuses = [status]
    sender = channel(callback_url=receiver.url("/hook"))
    try:
        result = await sender.send(OUTBOUND)
    finally:
        await sender.stop()
    assert not result.ok
    assert result.error == f"callback answered HTTP {status}"
    assert result.permanent is permanent


async def test_send_to_an_unreachable_callback_is_retryable(receiver: HttpRecorder) -> None:
    url = receiver.url("/hook")
    await receiver.stop()  # nothing listens there any more
    sender = channel(callback_url=url, timeout_seconds=2)
    try:
        result = await sender.send(OUTBOUND)
    finally:
        await sender.stop()
    assert not result.ok and not result.permanent
    assert result.error is not None and result.error.startswith("callback unreachable")


@pytest.mark.parametrize(
    ("targets", "delivered"),
    [
        (Targets(), False),  # production: public addresses only
        (Targets(allowed=(ip_network("127.0.0.0/8"),)), True),
        (Targets(allow_private=True), True),
    ],
)
async def test_the_hubs_socket_factory_decides_where_callbacks_go(
    receiver: HttpRecorder, targets: Targets, delivered: bool
) -> None:
    """The hub hands the channel its outgoing check: a callback on a refused address fails for
    good naming it, and nothing reaches the address; an allowed network is reached."""
    sender = channel(callback_url=receiver.url("/hook"))
    sender.use_socket_factory(targets.socket_for)
    try:
        result = await sender.send(OUTBOUND)
    finally:
        await sender.stop()
    assert result.ok is delivered and len(receiver.requests) == int(delivered)
    if not delivered:
        assert result.permanent
        assert result.error == (
            "callback not sent: refused to connect: 127.0.0.1 is a loopback address "
            "(see outgoing.allowed_networks)"
        )


async def test_send_without_a_callback_fails_for_good() -> None:
    result = await channel().send(OUTBOUND)
    assert not result.ok and result.permanent
    assert result.error == "channel partner has no callback_url configured"

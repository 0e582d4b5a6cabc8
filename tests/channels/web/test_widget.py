"""The widget adapter on its own: frames in, typed frames and InboundMessage out, every bad
frame named; the config validated with one clear line; visitor tokens signed and checked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from channels.base import Attachment, DeliveryResult, IdentityKind, OutboundMessage, Party
from channels.web.widget import (
    FrameError,
    Hello,
    LeaveEmail,
    Ping,
    SendText,
    WidgetChannel,
    WidgetChannelConfig,
)
from hub.config.settings import ConfigError
from hub.widget.visitors import VisitorTokens, new_visitor_id
from tests.conftest import make_settings


def channel(**config: Any) -> WidgetChannel:
    return WidgetChannel("chat", WidgetChannelConfig(kind="widget", **config))


def test_frames_are_read_into_typed_frames() -> None:
    widget = channel()
    assert widget.parse_frame('{"type": "hello"}') == Hello(None, 0)
    assert widget.parse_frame('{"type": "hello", "token": "t", "since": 7}') == Hello("t", 7)
    sent = widget.parse_frame(json.dumps({"type": "message", "id": "c-1", "text": " Hi\r\nyou "}))
    assert sent == SendText("c-1", "Hi\nyou")
    assert widget.parse_frame('{"type": "email", "email": "A@B.example"}') == LeaveEmail(
        "a@b.example", ""
    )
    assert widget.parse_frame('{"type": "ping"}') == Ping()
    with_files = {"type": "message", "id": "c-2", "text": "", "files": [3, 5]}
    assert widget.parse_frame(json.dumps(with_files)) == SendText("c-2", "", (3, 5))


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("{", "invalid_json"),
        ('"hello"', "invalid_frame"),
        ('{"type": 3}', "unknown_type"),
        ('{"type": "message", "text": "no id"}', "invalid_field"),
        ('{"type": "message", "id": "' + "x" * 65 + '", "text": "a"}', "invalid_field"),
        ('{"type": "message", "id": "c", "text": ["a"]}', "invalid_field"),
        ('{"type": "message", "id": "c", "text": "\\u0000\\u0001"}', "empty_message"),
        ('{"type": "message", "id": "c", "text": "' + "a" * 4001 + '"}', "too_long"),
        ('{"type": "message", "id": "c", "text": "", "files": []}', "empty_message"),
        ('{"type": "message", "id": "c", "text": "a", "files": [1, 1]}', "invalid_field"),
        ('{"type": "message", "id": "c", "text": "a", "files": ["1"]}', "invalid_field"),
        ('{"type": "message", "id": "c", "text": "a", "files": [0]}', "invalid_field"),
        ('{"type": "message", "id": "c", "text": "a", "files": 7}', "invalid_field"),
        (
            '{"type": "message", "id": "c", "text": "a", "files": ' + str(list(range(1, 52))) + "}",
            "too_many_files",
        ),
        ('{"type": "hello", "since": true}', "invalid_field"),
        ('{"type": "hello", "token": 5}', "invalid_field"),
        ('{"type": "email", "email": "nobody"}', "invalid_email"),
        ("x" * 300_000, "too_large"),
        ('{"type": "hello", "since": ' + "9" * 5000 + "}", "invalid_json"),
        ('{"type": "hello", "since": NaN}', "invalid_json"),
        ('{"type": "hello", "since": Infinity}', "invalid_json"),
        ('{"type": "hello", "since": 1e999}', "invalid_json"),
        ('{"type": "hello", "since": 2147483648}', "invalid_field"),
        ('{"type": "message", "id": "c", "text": "a", "files": [2147483648]}', "invalid_field"),
        ('{"type": "ping", "x": ' + "[" * 100 + "]" * 100 + "}", "invalid_json"),
    ],
)
def test_bad_frames_are_named(data: str, code: str) -> None:
    with pytest.raises(FrameError) as refused:
        channel(max_frame_bytes=200_000).parse_frame(data)
    assert refused.value.code == code
    assert refused.value.message


def test_a_deeply_nested_frame_is_refused_not_crashing() -> None:
    with pytest.raises(FrameError) as refused:
        channel(max_frame_bytes=1024 * 1024).parse_frame("[" * 200_000 + "]" * 200_000)
    assert refused.value.code in {"invalid_json", "too_large"}


def test_the_inbound_message_is_the_visitors_and_idempotent_by_client_id() -> None:
    widget = channel()
    message = widget.inbound("ab" * 16, "Nora", SendText("c-1", "Hello"))
    assert message.sender == Party(IdentityKind.WEB, "ab" * 16, "Nora")
    assert message.external_id == f"widget:{'ab' * 16}:c-1"
    assert message.channel == "chat"
    assert message.received_at.tzinfo is not None


async def test_send_hands_over_to_the_hub_or_fails_truthfully() -> None:
    widget = channel()
    outbound = OutboundMessage(1, "chat", Party(IdentityKind.WEB, "v"), "Hi")
    result = await widget.send(outbound)
    assert not result.ok and "no live-socket hub" in (result.error or "")
    seen: list[tuple[str, OutboundMessage]] = []

    async def deliver(name: str, message: OutboundMessage) -> DeliveryResult:
        seen.append((name, message))
        return DeliveryResult.sent("widget:1")

    widget.use_delivery(deliver)
    assert (await widget.send(outbound)).external_id == "widget:1"
    assert seen == [("chat", outbound)]
    empty = await widget.send(OutboundMessage(2, "chat", Party(IdentityKind.WEB, "v"), "  "))
    assert empty.permanent
    file_only = OutboundMessage(
        3, "chat", Party(IdentityKind.WEB, "v"), "", attachments=(Attachment("a.pdf", "x", 1),)
    )
    assert (await widget.send(file_only)).ok


def test_visitor_tokens_are_signed_per_channel() -> None:
    tokens = VisitorTokens("a-long-secret-for-tests-only")
    visitor = new_visitor_id()
    token = tokens.issue("chat", visitor)
    assert tokens.verify("chat", token) == visitor
    assert tokens.verify("other", token) is None
    assert VisitorTokens("another-secret-entirely").verify("chat", token) is None
    for forged in ("", visitor, visitor + ".", token + "x", "ZZ" + token[2:], "é" + token):
        assert tokens.verify("chat", forged) is None


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        (
            {"channels.chat.allowed_origins": ["shop.example.com"]},
            "channels.chat.allowed_origins: 'shop.example.com' is not an origin",
        ),
        (
            {"channels.chat.allowed_origins": ["https://shop.example.com/page"]},
            "is not an origin like https://shop.example.com",
        ),
        (
            {"channels.chat.email_fallback_channel": "contact"},
            "channels.chat.email_fallback_channel: no email channel named 'contact'",
        ),
        ({"channels.chat.max_message_chars": 0}, "channels.chat.max_message_chars"),
        ({"channels.chat.colour": "red"}, "channels.chat.colour"),
    ],
)
def test_a_wrong_widget_setting_names_the_key(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as refused:
        make_settings("sqlite+aiosqlite:///unused.db", **overrides)
    assert problem in str(refused.value)


def test_the_example_config_has_a_working_widget() -> None:
    settings = make_settings("sqlite+aiosqlite:///unused.db")
    config = settings.channels["chat"]
    assert isinstance(config, WidgetChannelConfig)
    assert config.email_fallback_channel == "mail"
    assert config.recipient_kind() is IdentityKind.WEB
    assert config.allowed_origins == ("http://localhost:8000",)

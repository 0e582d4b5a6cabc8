"""Slack interactivity requests (https://api.slack.com/interactivity/handling): a press on a
Block Kit button comes as ``POST`` ``application/x-www-form-urlencoded`` with one field,
``payload``, a JSON ``block_actions`` document, signed like Events API deliveries. The
signature is checked on the raw body before anything is read; each button press becomes an
inbound message normalized like a widget press: the text is the button's title and
``raw["button"]`` its value (the bot's payload). Presses on link buttons (no ``value``) and
other interactivity types are acknowledged and dropped."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from channels import strict_json
from channels.base import ChannelRejected, IdentityKind, InboundMessage, InboundRequest, Party

Payload = Mapping[str, Any]


def _bad(field: str, problem: str) -> ChannelRejected:
    return ChannelRejected(400, "invalid_payload", f"{field}: {problem}", {field: problem})


def payload_of(request: InboundRequest) -> Payload:
    """The ``payload`` JSON of a (verified) interactivity request."""
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("body", "is not UTF-8 text") from None
    try:
        found = parse_qs(text, max_num_fields=20).get("payload", [])
    except ValueError:  # more fields than any interactivity request has
        raise _bad("body", "too many form fields") from None
    if len(found) != 1:
        raise _bad("payload", "one form field payload is required")
    try:
        payload = strict_json.loads(found[0])
    except strict_json.JsonRefused as exc:
        raise _bad("payload", f"is not valid JSON: {exc.problem}") from None
    if not isinstance(payload, dict):
        raise _bad("payload", "must be a JSON object")
    return payload


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _object(payload: Payload, key: str) -> Mapping[str, Any]:
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


def _stamp(ts: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (ValueError, OverflowError):
        raise _bad("actions[].action_ts", "is not a Slack timestamp") from None


def presses(channel: str, payload: Payload) -> list[InboundMessage]:
    """The button presses a ``block_actions`` payload carries (none for other types)."""
    if payload.get("type") != "block_actions":
        return []
    user = _text(_object(payload, "user").get("id"))
    if not user:
        raise _bad("user.id", "is required")
    container = _object(payload, "container")
    shown = _object(payload, "message")
    where = _text(_object(payload, "channel").get("id")) or _text(container.get("channel_id"))
    message_ts = _text(container.get("message_ts")) or _text(shown.get("ts"))
    if not where or not message_ts:
        raise _bad("container", "channel_id and message_ts are required")
    thread_ts = _text(container.get("thread_ts")) or _text(shown.get("thread_ts")) or message_ts
    actions = payload.get("actions")
    found = []
    for action in actions if isinstance(actions, list) else []:
        if not isinstance(action, dict) or action.get("type") != "button":
            continue
        value, stamp = _text(action.get("value")), _text(action.get("action_ts"))
        if not value or not stamp:  # a link button: Slack opened the link
            continue
        title = _text(_object(action, "text").get("text")) or value
        found.append(
            InboundMessage(
                channel=channel,
                external_id=f"{where}:action:{stamp}:{action.get('action_id') or ''}",
                sender=Party(IdentityKind.SLACK, user),
                text=title,
                thread_key=f"{where}:{thread_ts}",
                reply_to_ids=(f"{where}:{message_ts}",),
                received_at=_stamp(stamp),
                raw={
                    "button": value,
                    "action_id": action.get("action_id"),
                    "team_id": _object(payload, "team").get("id"),
                    "container": dict(container),
                },
            )
        )
    return found

"""Property tests for every parser at the edge: random and mutated inputs (mails, Telegram
updates, Slack events, widget frames, contact-form posts, JSON bodies) give either normalized
messages or the documented refusal (``ChannelRejected`` with a 4xx, ``FrameError``,
``JsonRefused``), never another exception. A finding here becomes a regular test."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels import strict_json
from channels.base import ChannelRejected, InboundMessage, InboundRequest
from channels.email.parse import parse_rfc822, relay_digest
from channels.slack.config import SlackChannelConfig
from channels.slack.events import translate as slack_translate
from channels.telegram.adapter import TelegramChannel
from channels.telegram.config import TelegramChannelConfig
from channels.web.form import FIELDS, FormChannel, FormChannelConfig
from channels.web.widget import FrameError, WidgetChannel, WidgetChannelConfig

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FAST = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, original: dict[str, Any]) -> Any:
    """``original`` with one to three of its values (or the whole) replaced or removed."""
    value: Any = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(value)
        path = draw(st.sampled_from(paths))
        if not path:
            value = draw(JSON_VALUES)
            continue
        parent = value
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON_VALUES)
    return value


def _fixtures(folder: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((FIXTURES / folder).glob("*.json"))]


def _messages(messages: list[InboundMessage]) -> None:
    for message in messages:
        assert isinstance(message, InboundMessage)
        assert message.external_id and message.channel


def _refused(exc: ChannelRejected) -> None:
    assert 400 <= exc.status < 500 and exc.code and exc.message


# --- JSON ----------------------------------------------------------------------------------


@FAST
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_strict_json_reads_or_refuses_any_bytes(data: bytes) -> None:
    try:
        strict_json.loads(data)
    except strict_json.JsonRefused as exc:
        assert exc.problem


@FAST
@given(JSON_VALUES)
def test_strict_json_reads_back_what_json_writes(value: Any) -> None:
    text = json.dumps(value)
    try:
        assert strict_json.loads(text) == value
    except strict_json.JsonRefused as exc:  # only a number too long for the reader
        assert "longer than" in exc.problem


# --- Mail ----------------------------------------------------------------------------------

MAILS = [p.read_bytes() for p in sorted((FIXTURES / "mail" / "generated").glob("*.eml"))][:12]


@st.composite
def mangled_mail(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(MAILS)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, max(0, len(raw) - 1)))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip" and raw:
            raw[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[at : at + draw(st.integers(1, 200))]
        else:
            raw[at:at] = draw(st.binary(min_size=1, max_size=40))
    return bytes(raw)


@FAST
@given(mangled_mail() | st.binary(max_size=300))
def test_any_mail_bytes_give_a_message(raw: bytes) -> None:
    message = parse_rfc822("mail", raw)
    assert isinstance(message, InboundMessage) and message.external_id
    assert len(relay_digest(raw)) == 64


# --- Telegram ------------------------------------------------------------------------------

TELEGRAM = TelegramChannel(
    "tg", TelegramChannelConfig(kind="telegram", bot_token="1:x", webhook_secret="s3cret")
)
UPDATES = _fixtures("teloxide") + [
    {"update_id": 1, "message": m} for m in _fixtures("aiogram-v2-dataset") if "chat" in m
]


@FAST
@given(st.sampled_from(UPDATES).flatmap(mutated))
def test_any_telegram_update_gives_messages_or_a_refusal(update: Any) -> None:
    try:
        _messages(TELEGRAM.parse_update(update))
    except ChannelRejected as exc:
        _refused(exc)


@FAST
@given(st.binary(max_size=300))
def test_any_telegram_body_gives_messages_or_a_refusal(body: bytes) -> None:
    request = InboundRequest(body=body, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
    try:
        _messages(TELEGRAM.parse(request))
    except ChannelRejected as exc:
        _refused(exc)


# --- Slack ---------------------------------------------------------------------------------

SLACK = SlackChannelConfig(kind="slack", bot_token="xoxb-1", signing_secret="secret")
EVENTS = [e for e in _fixtures("slack-bolt-python") if e.get("type") == "event_callback"]


@FAST
@given(st.sampled_from(EVENTS).flatmap(mutated))
def test_any_slack_event_gives_messages_or_a_refusal(envelope: Any) -> None:
    if not isinstance(envelope, dict):
        return  # the strict reader and Bolt refuse a body that is not an object first
    try:
        _messages(slack_translate("sl", SLACK, envelope))
    except ChannelRejected as exc:
        _refused(exc)


# --- Widget frames -------------------------------------------------------------------------

WIDGET = WidgetChannel("chat", WidgetChannelConfig(kind="widget"))
FRAMES = [
    {"type": "hello", "token": "t", "since": 3},
    {"type": "message", "id": "c-1", "text": "Hi", "files": [1, 2]},
    {"type": "email", "email": "a@b.example", "name": "A"},
    {"type": "ping"},
]


@FAST
@given(st.sampled_from(FRAMES).flatmap(mutated).map(json.dumps) | st.text(max_size=200))
def test_any_widget_frame_is_read_or_named_as_an_error(data: str) -> None:
    try:
        WIDGET.parse_frame(data)
    except FrameError as exc:
        assert exc.code and exc.message


# --- Contact form --------------------------------------------------------------------------

FORM = FormChannel("contact", FormChannelConfig(kind="form", reply_via="mail"))


@FAST
@given(st.fixed_dictionaries({key: st.text(max_size=80) for key in (*FIELDS, "submission_id")}))
def test_any_form_post_gives_a_message_or_field_errors(form: dict[str, str]) -> None:
    try:
        _messages(FORM.parse(InboundRequest(body=b"", form=form)))
    except ChannelRejected as exc:
        _refused(exc)
        assert exc.fields

"""The public contact form as a browser (or a bot) uses it: real HTTP against the running hub,
real SMTP for the acknowledgement, and the database read back to prove what was (not) stored."""

from __future__ import annotations

import html
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from hub.core import errors
from hub.db.models import (
    Conversation,
    Customer,
    Direction,
    Message,
    OutboxItem,
    OutboxState,
    Ticket,
)
from hub.web import csrf
from hub.web.keys import HUB, Hub
from tests.support.desk import Desk, MakeDesk
from tests.support.forms import TOKEN, csrf_token, submit
from tests.support.poll import eventually
from tests.support.ports import free_port
from tests.support.smtp import SmtpSink

GOOD = {
    "name": "Jane Cooper",
    "email": "jane.cooper@example.com",
    "subject": "Printer on fire",
    "message": "My printer is on fire.",
}
MakeClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def make_client(make_desk: MakeDesk) -> AsyncIterator[MakeClient]:
    """A hub with extra settings (rate limit, body size, capture server)."""

    async def make(**overrides: Any) -> TestClient[Any, Any]:
        return (await make_desk(**overrides)).client

    yield make


def hub_of(client: TestClient[Any, Any]) -> Hub:
    return client.app[HUB]


async def stored(hub: Hub) -> dict[str, int]:
    """How many rows of each kind the form could have created."""
    counts = {}
    async with hub.db.reader() as session:
        for model in (Customer, Conversation, Message, Ticket, OutboxItem):
            counts[model.__tablename__] = await session.scalar(
                select(func.count()).select_from(model)
            )
    return counts


NOTHING = {"customers": 0, "conversations": 0, "messages": 0, "tickets": 0, "outbox": 0}


async def outbox_idle(hub: Hub) -> None:
    async def idle() -> bool:
        async with hub.db.reader() as session:
            pending = await session.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.state == OutboxState.PENDING)
            )
        return pending == 0

    await eventually(idle, what="outbox idle")


def field_value(page: str, field: str) -> str | None:
    match = re.search(rf'<input type="\w+" id="{field}" name="{field}" value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else None


def textarea(page: str) -> str:
    match = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
    assert match is not None
    return html.unescape(match.group(1))


def field_error(page: str, field: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    return html.unescape(match.group(1)) if match else None


async def test_get_renders_form_with_token_in_field_and_cookie(desk: Desk) -> None:
    response = await desk.client.get("/forms/contact")
    assert response.status == 200
    assert response.content_type == "text/html"
    page = await response.text()
    match = TOKEN.search(page)
    assert match is not None
    cookie = response.cookies[csrf.COOKIE]
    assert cookie.value == match.group(1)
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    for field in ("name", "email", "subject"):
        assert field_value(page, field) == ""
    assert 'name="message"' in page
    assert 'name="website"' in page  # the honeypot, hidden from people


async def test_unknown_or_non_form_channel_is_not_found(desk: Desk) -> None:
    for name in ("nope", "mail"):
        response = await desk.client.get(f"/forms/{name}")
        assert response.status == 404
        assert "There is no form here." in await response.text()


async def test_good_submission_shows_confirmation_and_stores_one_message(
    desk: Desk, smtp_sink: SmtpSink
) -> None:
    status, page = await submit(desk.client, GOOD)
    assert status == 200
    assert "Message sent" in page
    assert "Thanks, we have your message" in page
    [ack] = await smtp_sink.wait_for(1)
    assert ack.rcpt_tos == ["jane.cooper@example.com"]
    async with desk.hub.db.reader() as session:
        message = await session.scalar(select(Message).where(Message.direction == "inbound"))
        assert message is not None
        assert message.text == "My printer is on fire."
        assert message.subject == "Printer on fire"


async def post_with(
    client: TestClient[Any, Any], token: str | None, cookie: str | None
) -> tuple[int, str]:
    client.session.cookie_jar.clear()
    if cookie is not None:
        client.session.cookie_jar.update_cookies({csrf.COOKIE: cookie})
    data = dict(GOOD) | ({csrf.FIELD: token} if token is not None else {})
    response = await client.post("/forms/contact", data=data)
    return response.status, await response.text()


def forged(token: str) -> str:
    nonce, issued, mac = token.split(".")
    return f"{nonce}.{issued}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}"


@pytest.mark.parametrize(
    "case",
    [
        "no token field",
        "no cookie",
        "cookie differs",
        "forged signature",
        "other secret",
        "expired",
        "issued in the future",
        "non-ascii token",
        "garbage",
    ],
)
async def test_csrf_failures_answer_403_page_and_store_nothing(
    desk: Desk, smtp_sink: SmtpSink, case: str
) -> None:
    client, secret = desk.client, desk.hub.settings.secret_key
    good = await csrf_token(client)
    token: str | None
    cookie: str | None
    if case == "no token field":
        token, cookie = None, good
    elif case == "no cookie":
        token, cookie = good, None
    elif case == "cookie differs":
        token, cookie = good, csrf.issue(secret)
    elif case == "forged signature":
        token = cookie = forged(good)
    elif case == "other secret":
        token = cookie = csrf.issue("another-secret-0123456789abcdef")
    elif case == "expired":
        token = cookie = csrf.issue(secret, now=time.time() - csrf.MAX_AGE - 60)
    elif case == "issued in the future":
        token = cookie = csrf.issue(secret, now=time.time() + 3600)
    elif case == "non-ascii token":
        token = cookie = "é." + "²" + ".ünïcode"
    else:
        token = cookie = "not-a-token"
    status, page = await post_with(client, token, cookie)
    assert status == 403
    assert html.escape(errors.FORM_CSRF, quote=True) in page
    assert field_value(page, "name") == "Jane Cooper"  # what they typed is not lost
    assert TOKEN.search(page) is not None  # a fresh token to try again with
    assert await stored(desk.hub) == NOTHING


async def test_a_fresh_token_from_the_403_page_works(desk: Desk) -> None:
    status, page = await post_with(desk.client, None, None)
    assert status == 403
    match = TOKEN.search(page)
    assert match is not None
    response = await desk.client.post("/forms/contact", data={csrf.FIELD: match.group(1), **GOOD})
    assert response.status == 200
    assert "Message sent" in await response.text()


async def test_honeypot_shows_confirmation_but_stores_nothing(desk: Desk) -> None:
    status, page = await submit(desk.client, {**GOOD, "website": "http://spam.example"})
    assert status == 200
    assert "Message sent" in page
    assert await stored(desk.hub) == NOTHING


async def test_validation_errors_rerender_with_field_messages_and_values(
    desk: Desk,
) -> None:
    fields = {"name": "  ", "email": "jane@", "subject": "S" * 301, "message": "   "}
    status, page = await submit(desk.client, fields)
    assert status == 422
    assert "Please correct the fields marked below." in page
    assert field_error(page, "name") == "Please tell us your name."
    assert field_error(page, "email") == "Please enter a valid email address."
    assert field_error(page, "subject") == "The subject is too long (300 characters at most)."
    assert field_error(page, "message") == "Please write your message."
    assert field_value(page, "email") == "jane@"
    assert 'id="email" name="email"' in page and 'aria-invalid="true"' in page
    assert await stored(desk.hub) == NOTHING

    status, page = await submit(desk.client, {**GOOD, "email": "nope"})
    assert status == 422
    assert field_error(page, "name") is None
    assert field_error(page, "email") == "Please enter a valid email address."
    assert field_value(page, "name") == "Jane Cooper"
    assert field_value(page, "subject") == "Printer on fire"
    assert textarea(page) == "My printer is on fire."
    assert await stored(desk.hub) == NOTHING


async def test_message_longer_than_the_form_allows_is_a_field_error(desk: Desk) -> None:
    limit = desk.hub.settings.channels["contact"].model_dump()["max_message_chars"]
    status, page = await submit(desk.client, {**GOOD, "message": "x" * (limit + 1)})
    assert status == 422
    assert field_error(page, "message") == f"The message is too long ({limit} characters at most)."
    assert await stored(desk.hub) == NOTHING


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
async def test_oversized_body_gets_friendly_413_page(
    make_client: MakeClient, encoding: str
) -> None:
    client = await make_client(**{"web.max_body_bytes": 4096})
    token = await csrf_token(client)
    data: Any = {csrf.FIELD: token, **GOOD, "message": "x" * 20_000}
    if encoding == "multipart":
        from aiohttp import FormData

        form = FormData()
        for key, value in data.items():
            form.add_field(key, value)
        data = form
    response = await client.post("/forms/contact", data=data)
    assert response.status == 413
    page = await response.text()
    assert html.escape(errors.FORM_TOO_LARGE, quote=True) in page
    assert TOKEN.search(page) is not None
    assert await stored(hub_of(client)) == NOTHING


async def test_unreadable_body_gets_400_page_not_500(desk: Desk) -> None:
    token = await csrf_token(desk.client)
    body = f"{csrf.FIELD}={token}&name=Jos%E9&message=caf\xe9".encode("latin-1")
    response = await desk.client.post(
        "/forms/contact",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert response.status == 400
    assert "could not be read" in await response.text()
    assert await stored(desk.hub) == NOTHING


async def test_per_ip_rate_limit_answers_429_page(make_client: MakeClient) -> None:
    client = await make_client(**{"web.form_rate_per_minute": 2})
    for number in range(2):
        status, _ = await submit(client, {**GOOD, "message": f"message {number}"})
        assert status == 200
    token = await csrf_token(client)
    response = await client.post(
        "/forms/contact", data={csrf.FIELD: token, **GOOD, "message": "third"}
    )
    assert response.status == 429
    assert int(response.headers["Retry-After"]) >= 1
    page = await response.text()
    assert html.escape(errors.FORM_RATE, quote=True) in page
    assert textarea(page) == "third"
    async with hub_of(client).db.reader() as session:
        texts = (
            await session.scalars(select(Message.text).where(Message.direction == "inbound"))
        ).all()
    assert sorted(texts) == ["message 0", "message 1"]


async def test_double_submit_of_one_rendered_form_stores_one_message(
    desk: Desk, smtp_sink: SmtpSink
) -> None:
    token = await csrf_token(desk.client)
    for _ in range(2):
        response = await desk.client.post("/forms/contact", data={csrf.FIELD: token, **GOOD})
        assert response.status == 200
        assert "Message sent" in await response.text()
    await outbox_idle(desk.hub)
    counts = await stored(desk.hub)
    assert counts["customers"] == 1
    assert counts["conversations"] == 1
    assert counts["tickets"] == 1
    assert counts["outbox"] == 1  # one acknowledgement
    async with desk.hub.db.reader() as session:
        inbound = await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "inbound")
        )
    assert inbound == 1
    assert len(smtp_sink.received) == 1


async def test_same_rendered_form_with_a_different_message_is_not_dropped(
    desk: Desk,
) -> None:
    """Back button, new question, submit again: the page (and its token) is the same, the
    message is not, so it must not be taken for a resubmission."""
    token = await csrf_token(desk.client)
    for text in ("First question.", "Second, different question."):
        response = await desk.client.post(
            "/forms/contact", data={csrf.FIELD: token, **GOOD, "message": text}
        )
        assert response.status == 200
    async with desk.hub.db.reader() as session:
        texts = (
            await session.scalars(
                select(Message.text).where(Message.direction == "inbound").order_by(Message.id)
            )
        ).all()
    assert texts == ["First question.", "Second, different question."]


SCRIPT = '<script>alert("pwned")</script><img src=x onerror=alert(1)><b>bold</b>'


async def test_markup_in_the_message_is_stored_as_text_and_never_rendered(
    make_client: MakeClient,
) -> None:
    port = free_port()
    client = await make_client(
        **{"capture.enabled": True, "capture.port": port, "channels.mail.smtp_port": port}
    )
    hub = hub_of(client)
    fields = {**GOOD, "name": "<i>Jane</i>", "subject": "<script>x()</script>", "message": SCRIPT}

    # Re-rendered after a validation error: escaped, not markup.
    status, page = await submit(client, {**fields, "email": "bad"})
    assert status == 422
    assert "<script" not in page
    assert "<img" not in page and "<i>Jane" not in page
    assert textarea(page) == SCRIPT

    status, page = await submit(client, fields)
    assert status == 200
    assert "<script" not in page and "<img" not in page
    async with hub.db.reader() as session:
        message = await session.scalar(select(Message).where(Message.direction == "inbound"))
        assert message is not None
        assert message.text == SCRIPT
        assert message.html is None
        customer = await session.get(Customer, message.customer_id)
        assert customer is not None and customer.name == "<i>Jane</i>"
    await outbox_idle(hub)

    # The acknowledgement and the captured-mail pages show it as text.
    assert hub.capture is not None
    [mail] = hub.capture.store.all()
    for path in ("/dev/mail", f"/dev/mail/{mail.number}"):
        response = await client.get(path)
        assert response.status == 200
        shown = await response.text()
        assert "<script" not in shown and "<i>Jane" not in shown and "<img" not in shown
        assert "&lt;script&gt;" in shown


async def test_submissions_are_threaded_per_sender(desk: Desk) -> None:
    await submit(desk.client, GOOD)
    await submit(desk.client, {**GOOD, "message": "Still burning."})
    await submit(desk.client, {**GOOD, "email": "tom@example.com", "name": "Tom"})
    async with desk.hub.db.reader() as session:
        rows = (
            await session.execute(
                select(Message.conversation_id, Message.text)
                .where(Message.direction == Direction.INBOUND)
                .order_by(Message.id)
            )
        ).all()
    assert rows[0][0] == rows[1][0] != rows[2][0]


async def test_control_characters_are_dropped_not_a_server_error(desk: Desk) -> None:
    status, page = await submit(
        desk.client, {**GOOD, "name": "Jane\x00 Cooper", "message": "a\x00b\x07c\r\nd\te"}
    )
    assert status == 200, page
    async with desk.hub.db.reader() as session:
        message = await session.scalar(select(Message).where(Message.direction == "inbound"))
        assert message is not None
        assert message.text == "abc\nd\te"
        customer = await session.get(Customer, message.customer_id)
        assert customer is not None and customer.name == "Jane Cooper"

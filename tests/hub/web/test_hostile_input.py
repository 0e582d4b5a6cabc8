"""Hostile input at the edge, as an attacker sends it: huge numbers, deep nesting, NaN and
Infinity, control characters in multipart headers, empty bodies where a field is needed. Every
one is answered with a 4xx whose JSON body names the problem, before or after authentication
as it should be, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.db.file_models import StoredFile
from hub.db.models import Message, Role
from tests.conftest import auth
from tests.support.agent_api import inbound_token, payload, start_conversation
from tests.support.desk import Desk

HUGE = "1" * 5000  # past Python's 4,300-digit limit for int()
DEEP = "[" * 50_000 + "]" * 50_000


async def messages(desk: Desk) -> int:
    async with desk.hub.db.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


async def error_of(response: Any) -> dict[str, Any]:
    body = await response.json()
    assert set(body) == {"error"}, body
    return dict(body["error"])


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"text": ' + HUGE.encode() + b"}", "number"),
        (b'{"text": -' + HUGE.encode() + b"}", "number"),
        (b'{"text": 1e' + HUGE.encode() + b"}", "number"),
        (b'{"text": 1e400}', "number"),
        (b'{"text": NaN}', "NaN"),
        (b'{"text": Infinity}', "Infinity"),
        (b'{"text": [-Infinity]}', "-Infinity"),
        (b'{"text": ' + DEEP.encode() + b"}", "nested"),
        (b'{"text": ' + b"[" * 100 + b"]" * 100 + b"}", "nested"),
    ],
)
async def test_hostile_json_on_an_agent_endpoint_is_a_4xx_naming_it(
    desk: Desk, body: bytes, named: str
) -> None:
    _, sue = await desk.agent("sue@example.com")
    started = await start_conversation(desk.client, desk.hub, "e-1", "joe@example.com", "Hello")
    path = f"/api/v1/conversations/{started['conversation_id']}/messages"
    before = await messages(desk)
    anonymous = await desk.client.post(path, data=body)
    assert anonymous.status == 401
    assert (await error_of(anonymous))["code"] == "unauthorized"
    response = await desk.client.post(path, data=body, headers=auth(sue))
    assert response.status == 400, await response.text()
    error = await error_of(response)
    assert error["code"] == "invalid_json"
    assert named in error["message"]
    assert await messages(desk) == before


@pytest.mark.parametrize(
    "value",
    [HUGE, "NaN", "Infinity", "-Infinity", "1e999", DEEP],
)
async def test_hostile_json_on_the_api_channel_is_refused_and_nothing_is_stored(
    desk: Desk, value: str
) -> None:
    body = json.dumps(payload("x-1", "joe@example.com", "Hi"))[:-1] + f', "meta": {value}}}'
    token = inbound_token(desk.hub)
    anonymous = await desk.client.post("/api/v1/inbound/api", data=body)
    assert anonymous.status == 401
    response = await desk.client.post("/api/v1/inbound/api", data=body, headers=auth(token))
    assert response.status == 400, await response.text()
    assert (await error_of(response))["code"] == "invalid_json"
    assert await messages(desk) == 0


async def test_an_empty_presence_change_is_refused_naming_what_is_missing(desk: Desk) -> None:
    sue_id, _ = await desk.agent("sue@example.com")
    _, boss = await desk.agent("boss@example.com", role=Role.ADMIN)
    path = f"/api/v1/routing/agents/{sue_id}"
    for body in ({}, {"presence": None, "capacity": None, "skills": None}):
        response = await desk.client.put(path, json=body, headers=auth(boss))
        assert response.status == 422, await response.text()
        error = await error_of(response)
        assert error["code"] == "invalid_field"
        assert set(error["fields"]) == {"presence"}
        assert "capacity" in error["message"] and "skills" in error["message"]


def multipart(header_line: bytes, boundary: bytes = b"B0UND") -> bytes:
    return (
        b"--" + boundary + b"\r\n" + header_line + b"\r\n"
        b"Content-Type: text/plain\r\n\r\nhello\r\n--" + boundary + b"--\r\n"
    )


CONTROL_HEADERS = [
    b'Content-Disposition: form-data; name="file"; filename="a\x01b.txt"',
    b'Content-Disposition: form-data; name="file"; filename="a\x00b.txt"',
    b'Content-Disposition: form-data; name="fi\x0ble"; filename="a.txt"',
    b'Content-Disposition: form-data; name="file"; filename="a\rb.txt"',
    b'Content-Disposition: form-data; name="file"; filename="a\x7fb.txt"',
    b'X-\x01Odd: 1\r\nContent-Disposition: form-data; name="file"; filename="a.txt"',
    b"Content-Disposition: form-data; name=\"file\"; filename*=utf-8''%FF%FE.txt",
    b"Content-Disposition: form-data; name=\"file\"; filename*=nope''a.txt",
    # Found by the multipart property test: bytes that decode to a C1 control, a lone
    # surrogate (PostgreSQL cannot store it) or a right-to-left override (a spoofed name).
    b'Content-Disposition: form-data; name="file"; filename="\x80.txt"',
    b'Content-Disposition: form-data; name="file"; filename="a\xed\xb2\x80.txt"',
    b'Content-Disposition: form-data; name="file"; filename="gpj.\xe2\x80\xaeexe"',
]


@pytest.mark.parametrize("header", CONTROL_HEADERS)
async def test_control_characters_in_an_upload_part_header_are_a_400(
    desk: Desk, header: bytes
) -> None:
    _, sue = await desk.agent("sue@example.com")
    headers = auth(sue) | {"Content-Type": "multipart/form-data; boundary=B0UND"}
    response = await desk.client.post("/api/v1/uploads", data=multipart(header), headers=headers)
    assert response.status in (201, 400), await response.text()
    if response.status == 400:
        assert (await error_of(response))["code"] == "bad_upload"
    else:  # a name that could be read is kept printable
        name = (await response.json())["filename"]
        assert name.isprintable()
    async with desk.hub.db.reader() as session:
        stored = list(await session.scalars(select(StoredFile.filename)))
    assert all(name.isprintable() for name in stored)


@pytest.mark.parametrize("header", CONTROL_HEADERS)
async def test_control_characters_in_a_contact_form_part_header_are_a_400(
    desk: Desk, header: bytes
) -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=B0UND"}
    response = await desk.client.post("/forms/contact", data=multipart(header), headers=headers)
    assert response.status in (400, 403), await response.text()
    assert response.content_type == "text/html"
    assert await messages(desk) == 0


async def test_api_ids_are_ascii_digits_within_range(desk: Desk) -> None:
    _, sue = await desk.agent("sue@example.com")
    started = await start_conversation(desk.client, desk.hub, "e-9", "joe@example.com", "Hello")
    real = started["conversation_id"]
    arabic = str(real).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    for raw in (arabic, "²", "2147483648", "9" * 5000):
        response = await desk.client.get(f"/api/v1/conversations/{raw}", headers=auth(sue))
        assert response.status == 404, raw
        assert (await error_of(response))["code"] == "not_found"
        for query in (f"assignee={raw}", f"team={raw}", f"cursor={raw}"):
            listing = await desk.client.get(f"/api/v1/conversations?{query}", headers=auth(sue))
            assert listing.status in (200, 400, 422), (query, await listing.text())

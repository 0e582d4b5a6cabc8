"""Property test for multipart reading (agent uploads, the web app's forms, widget uploads):
random and mangled bodies give the posted form or a 4xx ``ApiError`` naming the problem, never
another exception; every kept file name is printable."""

from __future__ import annotations

import asyncio
from unittest import mock

from aiohttp import StreamReader
from aiohttp.test_utils import make_mocked_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.config.settings import AttachmentSettings
from hub.core.errors import ApiError
from hub.web.uploads import PostedForm, read_form, read_multipart

BOUNDARY = "B0UND"
GOOD = (
    b"--B0UND\r\n"
    b'Content-Disposition: form-data; name="text"\r\n\r\n'
    b"hello\r\n"
    b"--B0UND\r\n"
    b'Content-Disposition: form-data; name="file"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n"
    b"file body\r\n"
    b"--B0UND--\r\n"
)


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    raw = bytearray(GOOD)
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(raw) - 1)) if raw else 0
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip" and raw:
            raw[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[at : at + draw(st.integers(1, 30))]
        else:
            raw[at:at] = draw(st.binary(min_size=1, max_size=20))
    return bytes(raw)


async def _read(body: bytes, streamed: bool) -> PostedForm:
    protocol = mock.Mock(_reading_paused=False)
    payload = StreamReader(protocol, 2**16, loop=asyncio.get_running_loop())
    payload.feed_data(body)
    payload.feed_eof()
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    if streamed:
        headers["X-CSRF-Token"] = "t"
    request = make_mocked_request("POST", "/api/v1/uploads", headers=headers, payload=payload)
    limits = AttachmentSettings()
    if streamed:
        return await read_multipart(request, limits, 10_000)
    return await read_form(request, limits, 10_000)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(mangled() | st.binary(max_size=200), st.booleans())
def test_any_multipart_body_is_read_or_refused_with_a_4xx(body: bytes, streamed: bool) -> None:
    try:
        posted = asyncio.run(_read(body, streamed))
    except ApiError as exc:
        assert 400 <= exc.status < 500 and exc.code
        return
    assert all(upload.filename.isprintable() for upload in posted.files)


def test_the_unmangled_body_is_read() -> None:
    posted = asyncio.run(_read(GOOD, True))
    assert posted.fields["text"] == "hello"
    assert [(f.filename, f.content) for f in posted.files] == [("a.txt", b"file body")]

"""Files in the web app's reply box: the composer offers a file picker; a reply or note posted as
multipart (by attach.js with the CSRF header, or by the plain form) carries its files, the
timeline links them, the mail has them; too-large files and other teams' conversations are
refused with nothing stored."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from hub.config.settings import Settings
from hub.db.file_models import StoredFile
from hub.db.models import Message
from tests.conftest import fake_endpoints, make_settings
from tests.hub.web.ui.conftest import Ui, UiFactory, inbound
from tests.support.desk import Desk
from tests.support.poll import eventually
from tests.support.recorder import HttpRecorder
from tests.support.smtp import SmtpSink

LIMIT = 4096


@pytest.fixture
def settings(database_url: str, smtp_sink: SmtpSink, callback_server: HttpRecorder) -> Settings:
    return make_settings(
        database_url,
        **fake_endpoints(smtp_sink, callback_server),
        **{
            "attachments.max_bytes": LIMIT,
        },
    )


def _form(ui: Ui | None, text: str, files: list[tuple[str, bytes, str]]) -> aiohttp.FormData:
    form = aiohttp.FormData()
    if ui is not None:
        form.add_field("csrf_token", ui.token)
    form.add_field("text", text)
    form.add_field("route", "")
    for name, content, kind in files:
        form.add_field("files", content, filename=name, content_type=kind)
    return form


async def _script_post(ui: Ui, path: str, form: aiohttp.FormData) -> aiohttp.ClientResponse:
    """What attach.js sends: multipart, the CSRF token in a header, JSON wanted."""
    if not ui.token:
        await ui.get("/ui/inbox")
    headers = {"X-CSRF-Token": ui.token, "Accept": "application/json"}
    return await ui.http.post(path, data=form, headers=headers)


async def _counts(desk: Desk) -> tuple[int, int]:
    async with desk.hub.db.reader() as session:
        files = await session.scalar(select(func.count()).select_from(StoredFile))
        messages = await session.scalar(select(func.count()).select_from(Message))
    return int(files or 0), int(messages or 0)


async def test_reply_with_files_from_the_reply_box(
    desk: Desk, ui_agent: UiFactory, smtp_sink: SmtpSink
) -> None:
    sue = await ui_agent("sue@example.com")
    cid = (await inbound(desk, "Can you send the form?")).conversation_id
    page = await sue.page(f"/ui/conversations/{cid}")
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file" name="files" multiple' in page and "attach.js" in page
    assert "4.0 KiB each" in page
    files = [("form.pdf", b"%PDF-1.4 form", "application/pdf"), ("notes.txt", b"n", "text/plain")]
    response = await _script_post(
        sue, f"/ui/conversations/{cid}/reply", _form(None, "Both attached.", files)
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["ok"] is True

    async def mailed() -> bool:
        return any("Both attached." in m.text() for m in smtp_sink.received)

    await eventually(mailed, what="the reply mail")
    [mail] = [m for m in smtp_sink.received if "Both attached." in m.text()]
    parts = {p.get_filename(): p.get_content() for p in mail.message.iter_attachments()}
    assert parts == {"form.pdf": b"%PDF-1.4 form", "notes.txt": "n"}

    async with desk.hub.db.reader() as session:
        reply_id = await session.scalar(
            select(Message.id).where(Message.direction == "outbound", Message.text.contains("Both"))
        )
    timeline = await sue.page(f"/ui/conversations/{cid}/live")
    assert f'href="/ui/attachments/{reply_id}/0">form.pdf</a>' in timeline
    assert f'href="/ui/attachments/{reply_id}/1">notes.txt</a>' in timeline
    download = await sue.get(f"/ui/attachments/{reply_id}/0")
    assert download.status == 200 and await download.read() == b"%PDF-1.4 form"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


async def test_plain_form_note_with_a_file(desk: Desk, ui_agent: UiFactory) -> None:
    sue = await ui_agent("sue@example.com")
    cid = (await inbound(desk, "Hello")).conversation_id
    await sue.page(f"/ui/conversations/{cid}")
    form = _form(sue, "Screenshot for the team", [("shot.png", b"\x89PNG\r\n\x1a\nxx", "")])
    response = await sue.http.post(
        f"/ui/conversations/{cid}/note", data=form, allow_redirects=False
    )
    assert response.status == 303, await response.text()
    async with desk.hub.db.reader() as session:
        note = await session.scalar(select(Message).where(Message.direction == "note"))
    assert note is not None
    assert note.attachments == [
        {"filename": "shot.png", "content_type": "image/png", "size": 10, "file_id": 1}
    ]


@pytest.mark.parametrize("script", [True, False])
async def test_too_large_file_is_refused_and_nothing_is_kept(
    desk: Desk, ui_agent: UiFactory, script: bool
) -> None:
    sue = await ui_agent("sue@example.com")
    cid = (await inbound(desk, "Hello")).conversation_id
    await sue.page(f"/ui/conversations/{cid}")
    before = await _counts(desk)
    big = [("huge.bin", b"x" * (LIMIT + 1), "application/octet-stream")]
    path = f"/ui/conversations/{cid}/reply"
    if script:
        response = await _script_post(sue, path, _form(None, "Too big", big))
        answer: Any = await response.json()
        assert response.status == 413
        assert answer["error"]["code"] == "file_too_large"
        assert f"{LIMIT} bytes" in answer["error"]["message"]
    else:
        response = await sue.http.post(path, data=_form(sue, "Too big", big))
        assert response.status == 413
        page = await response.text()
        assert "The file huge.bin is larger than the limit of 4096 bytes (4 KB)" in page
    assert await _counts(desk) == before


async def test_other_teams_conversation_takes_no_files(desk: Desk, ui_agent: UiFactory) -> None:
    sue = await ui_agent("sue@example.com")
    bob = await ui_agent("bob@example.com", teams=("billing",))
    cid = (await inbound(desk, "Hello")).conversation_id
    await bob.page("/ui/inbox")
    before = await _counts(desk)
    response = await _script_post(
        bob, f"/ui/conversations/{cid}/reply", _form(None, "Hi", [("a.txt", b"a", "text/plain")])
    )
    assert response.status == 404
    assert await _counts(desk) == before
    await sue.page(f"/ui/conversations/{cid}")
    sent = await _script_post(
        sue, f"/ui/conversations/{cid}/note", _form(None, "Mine", [("a.txt", b"a", "text/plain")])
    )
    assert sent.status == 200
    async with desk.hub.db.reader() as session:
        note_id = await session.scalar(select(Message.id).where(Message.direction == "note"))
    denied = await bob.get(f"/ui/attachments/{note_id}/0")
    assert denied.status == 404
    assert (await sue.get(f"/ui/attachments/{note_id}/0")).status == 200

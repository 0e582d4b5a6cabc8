"""Reply attachments through the agent API: upload a file (POST /api/v1/uploads), list its id in
a reply or note, and the file goes out with the reply (a mail part at the real SMTP sink, a
document at the fake Telegram Bot API, base64 in the API channel's callback). Too-large,
foreign, unknown and reused files are refused with JSON naming the problem and leave nothing
behind; downloads are for agents who may see the conversation."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import aiohttp
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from hub.db.file_models import StoredFile
from hub.db.models import Message, Role
from hub.web.api.models import files
from hub.web.api.routes import api_document as document
from tests.conftest import auth, make_settings
from tests.hub.web.ui.conftest import inbound
from tests.support.agent_api import call, settled, start_conversation
from tests.support.desk import Desk, MakeDesk
from tests.support.fake_provider import serving
from tests.support.fake_telegram import FakeTelegram
from tests.support.poll import eventually
from tests.support.recorder import HttpRecorder
from tests.support.smtp import Received, SmtpSink

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8
UPLOADS = "/api/v1/uploads"

STORED_FILE = files.StoredFile.model_json_schema()


async def upload(
    desk: Desk,
    token: str | None,
    filename: str,
    content: bytes,
    content_type: str = "application/octet-stream",
) -> tuple[int, Any]:
    form = aiohttp.FormData()
    form.add_field("file", content, filename=filename, content_type=content_type)
    headers = auth(token) if token else {}
    response = await desk.client.post(UPLOADS, data=form, headers=headers)
    return response.status, await response.json()


async def reply(
    desk: Desk, token: str, conversation_id: int, body: dict[str, Any]
) -> tuple[int, Any]:
    return await call(
        desk.client, "POST", f"/api/v1/conversations/{conversation_id}/messages", token, body
    )


async def mail_saying(sink: SmtpSink, text: str) -> Received:
    found: list[Received] = []

    async def arrived() -> bool:
        found[:] = [m for m in sink.received if text in m.text()]
        return bool(found)

    await eventually(arrived, what=f"a mail saying {text!r}")
    return found[0]


async def stored_count(desk: Desk) -> int:
    async with desk.hub.db.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(StoredFile)) or 0)


async def message_count(desk: Desk) -> int:
    async with desk.hub.db.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


def error_is_documented(answer: Any) -> None:
    doc = document()
    schema = {**doc["components"]["schemas"]["Error"], "components": doc["components"]}
    assert list(Draft202012Validator(schema).iter_errors(answer)) == []


async def test_uploaded_file_goes_out_as_a_mail_part(desk: Desk, smtp_sink: SmtpSink) -> None:
    _, alice = await desk.agent("alice@example.com")
    started = await inbound(desk, "Please send me the contract", channel="mail")
    status, stored = await upload(desk, alice, "contract.pdf", PDF)
    assert status == 201, stored
    assert list(Draft202012Validator(STORED_FILE).iter_errors(stored)) == []
    assert (stored["filename"], stored["content_type"], stored["size"]) == (
        "contract.pdf",
        "application/pdf",
        len(PDF),
    )
    status, sent = await reply(
        desk,
        alice,
        started.conversation_id,
        {"text": "Here it is.", "attachments": [stored["id"]]},
    )
    assert status == 201, sent
    assert sent["attachments"] == [
        {
            "filename": "contract.pdf",
            "content_type": "application/pdf",
            "size": len(PDF),
            "file_id": stored["id"],
        }
    ]
    mail = await mail_saying(smtp_sink, "Here it is.")
    [part] = list(mail.message.iter_attachments())
    assert part.get_filename() == "contract.pdf"
    assert part.get_content_type() == "application/pdf"
    assert part.get_content() == PDF

    download = await desk.client.get(
        f"/api/v1/messages/{sent['id']}/attachments/0", headers=auth(alice)
    )
    assert download.status == 200
    assert await download.read() == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert 'filename="contract.pdf"' in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "application/pdf"


async def test_a_file_only_reply_and_a_note_with_a_file(desk: Desk, smtp_sink: SmtpSink) -> None:
    _, alice = await desk.agent("alice@example.com")
    started = await inbound(desk, "Logs?", channel="mail")
    _, first = await upload(desk, alice, "app.log", b"line 1\nline 2\n", "text/plain")
    _, second = await upload(desk, alice, "page.html", b"<script>alert(1)</script>", "text/html")
    status, note = await reply(
        desk, alice, started.conversation_id, {"private": True, "attachments": [first["id"]]}
    )
    assert status == 201, note
    assert (note["direction"], note["text"]) == ("note", "")
    assert [a["filename"] for a in note["attachments"]] == ["app.log"]
    status, sent = await reply(
        desk, alice, started.conversation_id, {"attachments": [second["id"]]}
    )
    assert status == 201, sent
    await settled(desk.hub)
    [mail] = [m for m in smtp_sink.received if list(m.message.iter_attachments())]
    [part] = list(mail.message.iter_attachments())
    assert part.get_filename() == "page.html"  # the note's app.log went nowhere
    # Served as a download whatever the type: never rendered by the agent's browser.
    html = await desk.client.get(
        f"/api/v1/messages/{sent['id']}/attachments/0", headers=auth(alice)
    )
    assert html.headers["Content-Disposition"].startswith("attachment;")
    assert html.headers["X-Content-Type-Options"] == "nosniff"
    assert html.headers["Content-Security-Policy"] == "sandbox"


async def test_too_large_upload_is_413_and_nothing_is_stored(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"attachments.max_bytes": "1 MB"})
    _, alice = await desk.agent("alice@example.com")
    status, answer = await upload(desk, alice, "big.bin", b"x" * (1024 * 1024 + 1))
    assert status == 413
    assert answer["error"]["code"] == "file_too_large"
    assert answer["error"]["message"] == (
        "the file big.bin is larger than the limit of 1048576 bytes (1 MB)"
    )
    error_is_documented(answer)
    # Far over the limit: refused from Content-Length, before reading the body.
    status, answer = await upload(desk, alice, "huge.bin", b"x" * (8 * 1024 * 1024))
    assert status == 413
    assert "larger than the limit of 1048576 bytes" in answer["error"]["message"]
    assert await stored_count(desk) == 0
    # Files are streamed: one at the cap fits, though larger than web.max_body_bytes.
    assert desk.settings.web.max_body_bytes < 1024 * 1024
    status, fits = await upload(desk, alice, "fits.bin", b"x" * (1024 * 1024))
    assert status == 201 and fits["size"] == 1024 * 1024


async def test_bad_uploads_are_refused_with_json(desk: Desk) -> None:
    _, alice = await desk.agent("alice@example.com")
    _, marketer = await desk.agent("mark@example.com", role=Role.MARKETER, teams=())
    assert (await upload(desk, None, "a.txt", b"a"))[0] == 401
    status, answer = await upload(desk, marketer, "a.txt", b"a")
    assert status == 403 and answer["error"]["code"] == "forbidden"
    response = await desk.client.post(UPLOADS, json={"file": "a"}, headers=auth(alice))
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "bad_upload"
    form = aiohttp.FormData()
    form.add_field("file", b"a", filename="a.txt")
    form.add_field("file", b"b", filename="b.txt")
    response = await desk.client.post(UPLOADS, data=form, headers=auth(alice))
    assert response.status == 400
    assert await stored_count(desk) == 0


async def test_foreign_unknown_and_reused_files_are_refused(
    desk: Desk, smtp_sink: SmtpSink
) -> None:
    _, alice = await desk.agent("alice@example.com")
    _, bob = await desk.agent("bob@example.com")
    cid = (await inbound(desk, "Hello", channel="mail")).conversation_id
    _, bobs = await upload(desk, bob, "bob.txt", b"bob's", "text/plain")
    _, mine = await upload(desk, alice, "mine.txt", b"mine", "text/plain")
    before = await message_count(desk)
    for ids, status, code in (
        ([bobs["id"]], 404, "unknown_file"),
        ([999_999], 404, "unknown_file"),
        ([mine["id"], mine["id"]], 422, "invalid_field"),
        (["1"], 422, "invalid_field"),
    ):
        got, answer = await reply(desk, alice, cid, {"text": "see file", "attachments": ids})
        assert (got, answer["error"]["code"]) == (status, code), answer
        error_is_documented(answer)
    assert await message_count(desk) == before
    assert (await reply(desk, alice, cid, {"text": "ok", "attachments": [mine["id"]]}))[0] == 201
    got, answer = await reply(desk, alice, cid, {"text": "again", "attachments": [mine["id"]]})
    assert (got, answer["error"]["code"]) == (409, "file_attached")
    assert f"file {mine['id']}" in answer["error"]["message"]
    assert await message_count(desk) == before + 1
    async with desk.hub.db.reader() as session:
        bob_file = await session.get(StoredFile, bobs["id"])
        assert bob_file is not None and bob_file.message_id is None


async def test_downloads_only_for_agents_who_may_see_the_conversation(desk: Desk) -> None:
    _, alice = await desk.agent("alice@example.com", teams=("support",))
    _, bob = await desk.agent("bob@example.com", teams=("billing",))
    _, marketer = await desk.agent("mark@example.com", role=Role.MARKETER, teams=())
    cid = (await inbound(desk, "Hello", channel="mail")).conversation_id
    _, stored = await upload(desk, alice, "secret.txt", b"secret", "text/plain")
    _, sent = await reply(desk, alice, cid, {"text": "x", "attachments": [stored["id"]]})
    url = f"/api/v1/messages/{sent['id']}/attachments/0"
    assert (await desk.client.get(url, headers=auth(alice))).status == 200
    denied = await desk.client.get(url, headers=auth(bob))
    assert denied.status == 404
    assert "not yours to see" in (await denied.json())["error"]["message"]
    assert (await desk.client.get(url, headers=auth(marketer))).status == 403
    assert (await desk.client.get(url)).status == 401
    missing = f"/api/v1/messages/{sent['id']}/attachments/1"
    assert (await desk.client.get(missing, headers=auth(alice))).status == 404


async def test_api_channel_callback_carries_the_file_base64(
    desk: Desk, callback_server: HttpRecorder
) -> None:
    _, alice = await desk.agent("alice@example.com")
    started = await start_conversation(
        desk.client, desk.hub, "ord-9", "jane@example.com", "Where is my parcel?"
    )
    _, stored = await upload(desk, alice, "invoice.pdf", PDF)
    status, _ = await reply(
        desk,
        alice,
        started["conversation_id"],
        {"text": "Attached.", "attachments": [stored["id"]]},
    )
    assert status == 201
    [delivered] = await callback_server.wait_for(1)
    body = json.loads(delivered.body)
    [attachment] = body["attachments"]
    assert (attachment["filename"], attachment["content_type"], attachment["size"]) == (
        "invoice.pdf",
        "application/pdf",
        len(PDF),
    )
    assert base64.b64decode(attachment["content_base64"]) == PDF


async def test_telegram_reply_with_a_file_is_sent_as_a_document(
    database_url: str, make_desk: MakeDesk
) -> None:
    async with serving(FakeTelegram()) as fake:
        desk = await make_desk(settings=make_settings(database_url, **telegram_channel(fake)))
        _, alice = await desk.agent("alice@example.com")
        update = {
            "update_id": 1,
            "message": {
                "message_id": 7,
                "date": 1767600000,
                "chat": {"id": 408258968, "type": "private", "first_name": "Jane"},
                "from": {"id": 408258968, "is_bot": False, "first_name": "Jane"},
                "text": "Can I have the manual?",
            },
        }
        response = await desk.client.post(
            "/webhooks/telegram/tg",
            data=json.dumps(update).encode(),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": SECRET,
            },
        )
        assert response.status == 200
        async with desk.hub.db.reader() as session:
            cid = await session.scalar(select(Message.conversation_id))
        assert cid is not None
        _, stored = await upload(desk, alice, "manual.pdf", PDF)
        status, _ = await reply(
            desk, alice, cid, {"text": "The manual:", "attachments": [stored["id"]]}
        )
        assert status == 201

        async def sent() -> bool:
            return bool(fake.sent("sendDocument"))

        await eventually(sent, what="sendDocument")
        [document_call] = fake.sent("sendDocument")
        assert document_call.files["document"] == ("manual.pdf", PDF)
        assert document_call.params["chat_id"] == "408258968"
        [text_call] = fake.sent("sendMessage")
        assert text_call.params["text"].startswith("The manual:")


SECRET = "webhook-secret_0123456789abcdefABCDEF"


def telegram_channel(fake: FakeTelegram) -> dict[str, Any]:
    values = {
        "kind": "telegram",
        "title": "Telegram",
        "bot_token": fake.token,
        "base_url": fake.base_url,
        "base_file_url": fake.base_file_url,
        "webhook_secret": SECRET,
        "ack_template": "",
        "chat_interval_seconds": 0.0,
        "group_interval_seconds": 0.0,
    }
    return {f"channels.tg.{key}": value for key, value in values.items()}


async def test_two_replies_racing_for_one_file_attach_it_once(
    desk: Desk, smtp_sink: SmtpSink
) -> None:
    _, alice = await desk.agent("alice@example.com")
    cid = (await inbound(desk, "Hello", channel="mail")).conversation_id
    _, stored = await upload(desk, alice, "once.txt", b"once", "text/plain")
    body = {"text": "the file", "attachments": [stored["id"]]}
    results = await asyncio.gather(*(reply(desk, alice, cid, body) for _ in range(3)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201, 409, 409], results
    async with desk.hub.db.reader() as session:
        holders = (
            await session.scalars(
                select(Message.id).where(
                    Message.direction == "outbound", Message.text.contains("the file")
                )
            )
        ).all()
    assert len(holders) == 1

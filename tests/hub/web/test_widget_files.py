"""Files in the chat widget, both ways: a visitor uploads over HTTP with their token and names
the upload in a message frame; the agent downloads the same bytes (agents of other teams do
not); too large is 413 naming the cap with nothing stored; another visitor's upload id is an
error frame with nothing stored; a resend attaches nothing twice; an agent's reply with a file
arrives with a link only that visitor can download; the email fallback carries the file."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from hub.core.files import purge_unattached
from hub.db.file_models import StoredFile
from hub.db.models import Conversation, Message, Presence, Role
from hub.db.widget_models import WidgetUpload
from tests.channels.web.widget_client import Visitor
from tests.conftest import auth
from tests.hub.web.test_widget_socket import WS, chat, count, gone, message_row, widget_overrides
from tests.support.desk import Desk
from tests.support.smtp import SmtpSink

__all__ = ["chat", "widget_overrides"]  # fixtures

UPLOADS = "/widget/chat/uploads"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def upload(
    desk: Desk,
    visitor: Visitor,
    filename: str,
    content: bytes,
    content_type: str = "application/octet-stream",
    **headers: str,
) -> tuple[int, Any]:
    form = aiohttp.FormData()
    form.add_field("file", content, filename=filename, content_type=content_type)
    sent = {"X-Widget-Token": visitor.token or ""} | headers
    response = await desk.client.post(UPLOADS, data=form, headers=sent)
    return response.status, await response.json()


async def send_files(
    visitor: Visitor, client_id: str, text: str, files: list[int], reply: str = "ack"
) -> dict[str, Any]:
    await visitor.send({"type": "message", "id": client_id, "text": text, "files": files})
    return await visitor.expect(reply, client_id=client_id)


async def agent_upload(desk: Desk, token: str, name: str, content: bytes) -> int:
    form = aiohttp.FormData()
    form.add_field("file", content, filename=name, content_type="application/pdf")
    response = await desk.client.post("/api/v1/uploads", data=form, headers=auth(token))
    assert response.status == 201, await response.text()
    return int((await response.json())["id"])


async def agent_reply(
    desk: Desk, token: str, conversation_id: int, text: str, files: list[int]
) -> dict[str, Any]:
    response = await desk.client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text, "attachments": files},
        headers=auth(token),
    )
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_visitor_file_reaches_the_agent_byte_for_byte(chat: Desk) -> None:
    _, sam = await chat.agent("sam@example.com", role=Role.SUPERVISOR)
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    status, stored = await upload(chat, visitor, "receipt.png", PNG, "text/html")
    assert status == 201, stored
    assert stored["filename"] == "receipt.png"
    assert stored["content_type"] == "image/png"  # sniffed, not the declared type
    assert stored["size"] == len(PNG)
    ack = await send_files(visitor, "c-1", "Here is my receipt", [stored["id"]])
    assert [f["filename"] for f in ack["files"]] == ["receipt.png"]
    assert "/widget/chat/files/" in ack["files"][0]["url"]
    message = await message_row(chat, ack["id"])  # attached before the ack
    assert [a["filename"] for a in message.attachments] == ["receipt.png"]

    await visitor.close()
    await visitor.connect(since=0)  # the history shows the file with a link
    shown = await visitor.agent_text("Here is my receipt")
    [entry] = shown["files"]
    assert entry["filename"] == "receipt.png" and entry["size"] == len(PNG)

    url = f"/api/v1/messages/{ack['id']}/attachments/0"
    got = await chat.client.get(url, headers=auth(sam))
    assert got.status == 200
    assert await got.read() == PNG
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    # The visitor's own link works too.
    mine = await chat.client.get(entry["url"])
    assert mine.status == 200 and await mine.read() == PNG

    # An agent of another team (not assigned) may not download it.
    _, bob = await chat.agent("bob@example.com", teams=("billing",), presence=Presence.OFFLINE)
    async with chat.hub.db.reader() as session:
        conversation = await session.get(Conversation, ack["conversation_id"])
        assert conversation is not None
    denied = await chat.client.get(url, headers=auth(bob))
    assert denied.status == 404
    await visitor.close()


async def test_files_only_message_and_several_files(chat: Desk) -> None:
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    ids = []
    for name in ("a.txt", "b.txt"):
        status, stored = await upload(chat, visitor, name, name.encode(), "text/plain")
        assert status == 201
        ids.append(stored["id"])
    ack = await send_files(visitor, "c-1", "", ids)
    message = await message_row(chat, ack["id"])
    assert [a["filename"] for a in message.attachments] == ["a.txt", "b.txt"]
    await visitor.close()


async def test_too_large_upload_is_413_naming_the_cap_and_nothing_is_stored(
    chat: Desk,
) -> None:
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    cap = chat.hub.settings.attachments.max_bytes
    status, body = await upload(chat, visitor, "big.bin", b"x" * (cap + 1))
    assert status == 413
    assert body["error"]["code"] == "file_too_large"
    assert str(cap) in body["error"]["message"]
    assert await count(chat, StoredFile) == 0
    assert await count(chat, WidgetUpload) == 0
    await visitor.close()


async def test_uploads_need_a_valid_token_and_an_allowed_origin(chat: Desk) -> None:
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    token = visitor.token or ""
    visitor.token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    status, body = await upload(chat, visitor, "a.txt", b"hi")
    assert status == 401 and body["error"]["code"] == "invalid_token"
    visitor.token = token
    status, body = await upload(chat, visitor, "a.txt", b"hi", Origin="https://evil.example")
    assert status == 403 and "allowed_origins" in body["error"]["message"]
    assert await count(chat, StoredFile) == 0
    await visitor.close()


@pytest.mark.parametrize("widget_overrides", [{"channels.chat.messages_per_minute": 2}])
async def test_uploads_count_against_the_visitors_rate_limit(chat: Desk) -> None:
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    assert (await upload(chat, visitor, "a.txt", b"1"))[0] == 201
    assert (await upload(chat, visitor, "b.txt", b"2"))[0] == 201
    status, body = await upload(chat, visitor, "c.txt", b"3")
    assert status == 429 and body["error"]["code"] == "rate_limited"
    assert await count(chat, StoredFile) == 2
    await visitor.close()


async def test_another_visitors_file_id_is_an_error_frame_and_nothing_is_stored(
    chat: Desk,
) -> None:
    owner = Visitor(chat.client, WS)
    await owner.connect()
    _, stored = await upload(chat, owner, "private.txt", b"mine", "text/plain")
    thief = Visitor(chat.client, WS)
    await thief.connect()
    error = await send_files(thief, "c-1", "look", [stored["id"]], reply="error")
    assert error["code"] == "unknown_file"
    assert str(stored["id"]) in error["message"]
    error = await send_files(thief, "c-2", "look", [999_999], reply="error")
    assert error["code"] == "unknown_file"
    assert await count(chat, Message) == 0
    async with chat.hub.db.reader() as session:
        row = await session.get(StoredFile, stored["id"])
        assert row is not None and row.message_id is None
    # The owner can still use it; afterwards a second message of theirs cannot.
    await send_files(owner, "c-1", "my file", [stored["id"]])
    error = await send_files(owner, "c-2", "again", [stored["id"]], reply="error")
    assert "already attached" in error["message"]
    assert await count(chat, Message, Message.direction == "inbound") == 1
    await owner.close()
    await thief.close()


async def test_a_resend_attaches_nothing_twice(chat: Desk) -> None:
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    _, stored = await upload(chat, visitor, "a.txt", b"once", "text/plain")
    first = await send_files(visitor, "same", "file", [stored["id"]])
    again = await send_files(visitor, "same", "file", [stored["id"]])
    assert again["id"] == first["id"] and again["duplicate"] is True
    await visitor.close()
    await visitor.connect()
    after = await send_files(visitor, "same", "file", [stored["id"]])
    assert after["duplicate"] is True
    message = await message_row(chat, first["id"])
    assert len(message.attachments) == 1
    assert await count(chat, StoredFile, StoredFile.message_id == first["id"]) == 1
    assert await count(chat, Message, Message.direction == "inbound") == 1
    await visitor.close()


async def test_a_crash_between_ingest_and_attach_is_mended_by_the_resend(chat: Desk) -> None:
    """The ack goes only after the files are attached; if the hub stopped in between, the
    page resends the same client id and the duplicate gets its files then."""
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    _, stored = await upload(chat, visitor, "a.txt", b"late", "text/plain")
    plain = await visitor.message("file", "c-1")  # as if ingested, attach never committed
    async with chat.hub.db.writer() as session:  # the reservation was made before ingest
        row = await session.get(WidgetUpload, stored["id"])
        assert row is not None
        row.client_id = "c-1"
        await session.commit()
    again = await send_files(visitor, "c-1", "file", [stored["id"]])
    assert again["id"] == plain["id"] and again["duplicate"] is True
    message = await message_row(chat, plain["id"])
    assert [a["filename"] for a in message.attachments] == ["a.txt"]
    await visitor.close()


async def test_an_agent_file_reaches_only_that_visitor(chat: Desk) -> None:
    _, sam = await chat.agent("sam@example.com", role=Role.SUPERVISOR)
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    ack = await visitor.message("Can I have the invoice?", "c-1")
    pdf = b"%PDF-1.4 invoice"
    file_id = await agent_upload(chat, sam, "invoice.pdf", pdf)
    sent = await agent_reply(chat, sam, ack["conversation_id"], "Here it is.", [file_id])
    shown = await visitor.agent_text("Here it is.")
    assert shown["id"] == sent["id"]
    [entry] = shown["files"]
    assert entry["filename"] == "invoice.pdf" and entry["content_type"] == "application/pdf"
    got = await chat.client.get(entry["url"])
    assert got.status == 200
    assert await got.read() == pdf
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"

    other = Visitor(chat.client, WS)
    await other.connect()
    await other.message("Hi", "c-1")
    links = chat.hub.widgets.links
    signed_for_other = links.url("chat", other.visitor_id or "", sent["id"], 0)
    assert (await chat.client.get(signed_for_other)).status == 404
    tampered = entry["url"][:-3] + ("AAA" if not entry["url"].endswith("AAA") else "BBB")
    assert (await chat.client.get(tampered)).status == 404
    missing = links.url("chat", visitor.visitor_id or "", sent["id"], 1)
    assert (await chat.client.get(missing)).status == 404
    no_sig = entry["url"].split("?")[0]
    assert (await chat.client.get(no_sig)).status == 404
    await visitor.close()
    await other.close()


async def test_a_file_only_reply_while_away_goes_by_email_with_the_file(
    chat: Desk, smtp_sink: SmtpSink
) -> None:
    _, sam = await chat.agent("sam@example.com", role=Role.SUPERVISOR)
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    ack = await visitor.message("Send me the manual please", "c-1")
    await visitor.send({"type": "email", "email": "nora@example.com", "name": "Nora"})
    await visitor.expect("email_saved")
    await visitor.close()
    await gone(chat)

    pdf = b"%PDF-1.4 manual"
    file_id = await agent_upload(chat, sam, "manual.pdf", pdf)
    await agent_reply(chat, sam, ack["conversation_id"], "", [file_id])
    [mail] = await smtp_sink.wait_for(1)
    assert mail.rcpt_tos == ["nora@example.com"]
    parts = [p for p in mail.message.walk() if p.get_filename() == "manual.pdf"]
    assert len(parts) == 1
    assert parts[0].get_payload(decode=True) == pdf


async def test_unattached_uploads_of_a_visitor_are_theirs_only(chat: Desk) -> None:
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    _, stored = await upload(chat, visitor, "a.txt", b"x", "text/plain")
    async with chat.hub.db.reader() as session:
        bound = await session.scalar(
            select(func.count())
            .select_from(WidgetUpload)
            .where(
                WidgetUpload.file_id == stored["id"],
                WidgetUpload.visitor_id == visitor.visitor_id,
            )
        )
        assert bound == 1
        row = await session.get(StoredFile, stored["id"])
        assert row is not None and row.uploaded_by is None  # no agent can attach it
    await visitor.close()


async def test_unused_visitor_uploads_are_purged_with_their_binding(chat: Desk) -> None:
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    status, body = await upload(
        chat, visitor, "a.txt", b"x", "text/plain", **{"X-Widget-Token": ""}
    )
    assert status == 401 and body["error"]["code"] == "invalid_token"
    _, stored = await upload(chat, visitor, "a.txt", b"x", "text/plain")
    async with chat.hub.db.writer() as session:
        purged = await purge_unattached(session, before=chat.hub.clock.now() + timedelta(hours=1))
        await session.commit()
    assert purged == 1
    assert await count(chat, WidgetUpload) == 0
    error = await send_files(visitor, "c-1", "gone", [stored["id"]], reply="error")
    assert error["code"] == "unknown_file"
    await visitor.close()

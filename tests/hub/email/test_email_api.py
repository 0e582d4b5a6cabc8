"""The agent API around mail: the full message one click away, raw original and attachments
for authorized agents only, split and merge, mailbox state for admins."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from hub.db.email_models import EmailRecord
from hub.db.models import Conversation, Message, Role
from hub.web.api import email
from tests.conftest import auth
from tests.hub.email.conftest import fixture_bytes, mail, smtp_in, smtp_port
from tests.support.desk import Desk

EMAIL_PATHS = {endpoint.path for endpoint in email.ENDPOINTS}


@pytest.fixture
def mail_overrides() -> dict[str, Any]:
    return {"channels.mail.max_attachment_bytes": 200}


async def test_full_mail_is_one_click_away_from_the_new_text(desk: Desk) -> None:
    _agent, token = await desk.agent("alice@example.com")
    await smtp_in(desk, fixture_bytes("talon/iphone.eml"))
    [message] = await desk.inbound_messages()
    listed = await desk.client.get(
        f"/api/v1/conversations/{message.conversation_id}/messages", headers=auth(token)
    )
    [entry] = [m for m in (await listed.json())["items"] if m["direction"] == "inbound"]
    assert entry["text"] == "Hello"
    details = await desk.client.get(f"/api/v1/messages/{message.id}/email", headers=auth(token))
    assert details.status == 200
    body = await details.json()
    assert body["new_text"] == "Hello"
    assert body["signature"] == "Sent from my iPhone"
    assert body["quoted_text"].startswith("On Apr 3, 2012, at 4:19 PM, bob <bob@example.com> wr")
    assert "Hello" in body["full_text"] and "> Hi" in body["full_text"]
    raw = await desk.client.get(body["raw_url"], headers=auth(token))
    assert raw.headers["Content-Type"] == "message/rfc822"
    assert b"X-Mailer: iPhone Mail (9B176)" in await raw.read()


async def test_html_is_sanitized_before_an_agent_sees_it(desk: Desk) -> None:
    _agent, token = await desk.agent("sam@example.com", role=Role.SUPERVISOR)
    await smtp_in(desk, fixture_bytes("generated/outlook_html_only.eml"))
    [message] = await desk.inbound_messages()
    assert message.text.startswith("Hello team,\n\nOur invoice #4411 was charged twice.")
    assert message.html is not None
    assert "<script" not in message.html and "onerror" not in message.html
    body = await (
        await desk.client.get(f"/api/v1/messages/{message.id}/email", headers=auth(token))
    ).json()
    assert "alert" not in body["html"]
    async with desk.hub.db.reader() as session:
        record = await session.scalar(select(EmailRecord))
        assert record is not None and "<script>" in (record.html_original or "")


async def test_attachments_are_served_only_to_agents_who_may_see_the_message(
    desk: Desk,
) -> None:
    _alice, alice = await desk.agent("alice@example.com", teams=("support",))
    _bob, bob = await desk.agent("bob@example.com", teams=("billing",))
    await smtp_in(desk, fixture_bytes("generated/gmail_nested_related.eml"))
    [message] = await desk.inbound_messages()
    details = await (
        await desk.client.get(f"/api/v1/messages/{message.id}/email", headers=auth(alice))
    ).json()
    logo, report = details["attachments"]
    assert (logo["filename"], logo["inline"], logo["content_id"]) == ("logo.png", True, "logo@x")
    assert (report["filename"], report["size"], report["stored"]) == ("report.pdf", 509, False)
    assert report["url"] is None
    image = await desk.client.get(logo["url"], headers=auth(alice))
    assert image.status == 200
    assert image.headers["Content-Type"] == "image/png"
    assert (await image.read()).startswith(b"\x89PNG")
    assert (await desk.client.get(logo["url"], headers=auth(bob))).status == 404
    assert (await desk.client.get(logo["url"])).status == 401
    too_big = await desk.client.get(
        f"/api/v1/messages/{message.id}/attachments/1", headers=auth(alice)
    )
    assert too_big.status == 410
    assert "report.pdf" in (await too_big.json())["error"]["message"]


async def test_winmail_dat_contents_are_listed(desk: Desk) -> None:
    _agent, token = await desk.agent("alice@example.com")
    await smtp_in(desk, fixture_bytes("generated/outlook_winmail_dat.eml"))
    [message] = await desk.inbound_messages()
    body = await (
        await desk.client.get(f"/api/v1/messages/{message.id}/email", headers=auth(token))
    ).json()
    [winmail] = body["attachments"]
    assert winmail["filename"] == "winmail.dat"
    assert winmail["contains"] == [
        {"filename": "budget.xlsx", "size": 302},
        {"filename": "notes.txt", "size": 10},
    ]


async def test_split_a_message_into_a_new_conversation(desk: Desk) -> None:
    _agent, token = await desk.agent("alice@example.com")
    await smtp_in(desk, mail("Two topics", "First topic", msgid="<t1@example.com>"))
    await smtp_in(
        desk, mail("Re: Two topics", "Unrelated new topic", extra="References: <t1@example.com>")
    )
    first, second = await desk.inbound_messages()
    assert first.conversation_id == second.conversation_id
    split = await desk.client.post(f"/api/v1/messages/{second.id}/split", headers=auth(token))
    assert split.status == 201
    created = await split.json()
    assert created["id"] != first.conversation_id
    async with desk.hub.db.reader() as session:
        moved = await session.get(Message, second.id)
        assert moved is not None and moved.conversation_id == created["id"]
    again = await desk.client.post(f"/api/v1/messages/{second.id}/split", headers=auth(token))
    assert again.status == 409
    # A reply to the split message lands in the new conversation.
    await smtp_in(
        desk,
        mail("Re: Two topics", "About the new topic", extra=f"In-Reply-To: {second.external_id}"),
    )
    assert (await desk.inbound_messages())[2].conversation_id == created["id"]


async def test_merge_two_conversations(desk: Desk) -> None:
    _agent, token = await desk.agent("alice@example.com")
    await smtp_in(desk, mail("Printer", "It jams"))
    await smtp_in(desk, mail("Scanner", "It is slow", sender="tom@example.com"))
    printer, scanner = await desk.conversations()
    merged = await desk.client.post(
        f"/api/v1/conversations/{scanner.id}/merge", json={"into": printer.id}, headers=auth(token)
    )
    assert merged.status == 200
    assert (await merged.json())["id"] == printer.id
    messages = await desk.inbound_messages()
    assert {m.conversation_id for m in messages} == {printer.id}
    async with desk.hub.db.reader() as session:
        source = await session.get(Conversation, scanner.id)
        assert source is not None and source.status == "resolved"
    itself = await desk.client.post(
        f"/api/v1/conversations/{printer.id}/merge", json={"into": printer.id}, headers=auth(token)
    )
    assert itself.status == 409
    bad = await desk.client.post(
        f"/api/v1/conversations/{printer.id}/merge", json={"into": "x"}, headers=auth(token)
    )
    assert bad.status == 422
    # Mail for the merged conversation (by its reply token) lands in the target.
    await smtp_in(
        desk,
        mail("Anything", "Follow-up", sender="tom@example.com"),
        to=(f"support+{scanner.token}@relaydesk.local",),
    )
    assert (await desk.inbound_messages())[-1].conversation_id == printer.id


async def test_mailbox_state_is_shown_to_admins_only(desk: Desk) -> None:
    _agent, agent = await desk.agent("alice@example.com")
    _admin, admin = await desk.agent("ada@example.com", role=Role.ADMIN)
    assert (await desk.client.get("/api/v1/email/mailboxes", headers=auth(agent))).status == 403
    listed = await desk.client.get("/api/v1/email/mailboxes", headers=auth(admin))
    items = (await listed.json())["items"]
    assert [(i["channel"], i["source"], i["state"]) for i in items] == [
        ("mail", "smtp", "listening"),
        ("sales", "smtp", "listening"),
    ]
    assert items[0]["detail"] == f"127.0.0.1:{smtp_port(desk)}"


async def test_email_paths_are_in_the_openapi_document(desk: Desk) -> None:
    document = await (await desk.client.get("/api/v1/openapi.json")).json()
    for path in EMAIL_PATHS:
        assert path in document["paths"]

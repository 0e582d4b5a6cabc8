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
from tests.hub.email.conftest import MailHub, fixture_bytes, mail

EMAIL_PATHS = {endpoint.path for endpoint in email.ENDPOINTS}


@pytest.fixture
def mail_overrides() -> dict[str, Any]:
    return {"channels.mail.max_attachment_bytes": 200}


async def test_full_mail_is_one_click_away_from_the_new_text(mailhub: MailHub) -> None:
    _agent, token = await mailhub.agent("alice@example.com")
    await mailhub.send(fixture_bytes("talon/iphone.eml"))
    [message] = await mailhub.inbound()
    listed = await mailhub.client.get(
        f"/api/v1/conversations/{message.conversation_id}/messages", headers=auth(token)
    )
    [entry] = [m for m in (await listed.json())["items"] if m["direction"] == "inbound"]
    assert entry["text"] == "Hello"
    details = await mailhub.client.get(f"/api/v1/messages/{message.id}/email", headers=auth(token))
    assert details.status == 200
    body = await details.json()
    assert body["new_text"] == "Hello"
    assert body["signature"] == "Sent from my iPhone"
    assert body["quoted_text"].startswith("On Apr 3, 2012, at 4:19 PM, bob <bob@example.com> wr")
    assert "Hello" in body["full_text"] and "> Hi" in body["full_text"]
    raw = await mailhub.client.get(body["raw_url"], headers=auth(token))
    assert raw.headers["Content-Type"] == "message/rfc822"
    assert b"X-Mailer: iPhone Mail (9B176)" in await raw.read()


async def test_html_is_sanitized_before_an_agent_sees_it(mailhub: MailHub) -> None:
    _agent, token = await mailhub.agent("sam@example.com", role=Role.SUPERVISOR)
    await mailhub.send(fixture_bytes("generated/outlook_html_only.eml"))
    [message] = await mailhub.inbound()
    assert message.text.startswith("Hello team,\n\nOur invoice #4411 was charged twice.")
    assert message.html is not None
    assert "<script" not in message.html and "onerror" not in message.html
    body = await (
        await mailhub.client.get(f"/api/v1/messages/{message.id}/email", headers=auth(token))
    ).json()
    assert "alert" not in body["html"]
    async with mailhub.hub.db.reader() as session:
        record = await session.scalar(select(EmailRecord))
        assert record is not None and "<script>" in (record.html_original or "")


async def test_attachments_are_served_only_to_agents_who_may_see_the_message(
    mailhub: MailHub,
) -> None:
    _alice, alice = await mailhub.agent("alice@example.com", teams=("support",))
    _bob, bob = await mailhub.agent("bob@example.com", teams=("billing",))
    await mailhub.send(fixture_bytes("generated/gmail_nested_related.eml"))
    [message] = await mailhub.inbound()
    details = await (
        await mailhub.client.get(f"/api/v1/messages/{message.id}/email", headers=auth(alice))
    ).json()
    logo, report = details["attachments"]
    assert (logo["filename"], logo["inline"], logo["content_id"]) == ("logo.png", True, "logo@x")
    assert (report["filename"], report["size"], report["stored"]) == ("report.pdf", 509, False)
    assert report["url"] is None
    image = await mailhub.client.get(logo["url"], headers=auth(alice))
    assert image.status == 200
    assert image.headers["Content-Type"] == "image/png"
    assert (await image.read()).startswith(b"\x89PNG")
    assert (await mailhub.client.get(logo["url"], headers=auth(bob))).status == 404
    assert (await mailhub.client.get(logo["url"])).status == 401
    too_big = await mailhub.client.get(
        f"/api/v1/messages/{message.id}/attachments/1", headers=auth(alice)
    )
    assert too_big.status == 410
    assert "report.pdf" in (await too_big.json())["error"]["message"]


async def test_winmail_dat_contents_are_listed(mailhub: MailHub) -> None:
    _agent, token = await mailhub.agent("alice@example.com")
    await mailhub.send(fixture_bytes("generated/outlook_winmail_dat.eml"))
    [message] = await mailhub.inbound()
    body = await (
        await mailhub.client.get(f"/api/v1/messages/{message.id}/email", headers=auth(token))
    ).json()
    [winmail] = body["attachments"]
    assert winmail["filename"] == "winmail.dat"
    assert winmail["contains"] == [
        {"filename": "budget.xlsx", "size": 302},
        {"filename": "notes.txt", "size": 10},
    ]


async def test_split_a_message_into_a_new_conversation(mailhub: MailHub) -> None:
    _agent, token = await mailhub.agent("alice@example.com")
    await mailhub.send(mail("Two topics", "First topic", msgid="<t1@example.com>"))
    await mailhub.send(
        mail("Re: Two topics", "Unrelated new topic", extra="References: <t1@example.com>")
    )
    first, second = await mailhub.inbound()
    assert first.conversation_id == second.conversation_id
    split = await mailhub.client.post(f"/api/v1/messages/{second.id}/split", headers=auth(token))
    assert split.status == 201
    created = await split.json()
    assert created["id"] != first.conversation_id
    async with mailhub.hub.db.reader() as session:
        moved = await session.get(Message, second.id)
        assert moved is not None and moved.conversation_id == created["id"]
    again = await mailhub.client.post(f"/api/v1/messages/{second.id}/split", headers=auth(token))
    assert again.status == 409
    # A reply to the split message lands in the new conversation.
    await mailhub.send(
        mail("Re: Two topics", "About the new topic", extra=f"In-Reply-To: {second.external_id}")
    )
    assert (await mailhub.inbound())[2].conversation_id == created["id"]


async def test_merge_two_conversations(mailhub: MailHub) -> None:
    _agent, token = await mailhub.agent("alice@example.com")
    await mailhub.send(mail("Printer", "It jams"))
    await mailhub.send(mail("Scanner", "It is slow", sender="tom@example.com"))
    printer, scanner = await mailhub.conversations()
    merged = await mailhub.client.post(
        f"/api/v1/conversations/{scanner.id}/merge", json={"into": printer.id}, headers=auth(token)
    )
    assert merged.status == 200
    assert (await merged.json())["id"] == printer.id
    messages = await mailhub.inbound()
    assert {m.conversation_id for m in messages} == {printer.id}
    async with mailhub.hub.db.reader() as session:
        source = await session.get(Conversation, scanner.id)
        assert source is not None and source.status == "resolved"
    itself = await mailhub.client.post(
        f"/api/v1/conversations/{printer.id}/merge", json={"into": printer.id}, headers=auth(token)
    )
    assert itself.status == 409
    bad = await mailhub.client.post(
        f"/api/v1/conversations/{printer.id}/merge", json={"into": "x"}, headers=auth(token)
    )
    assert bad.status == 422
    # Mail for the merged conversation (by its reply token) lands in the target.
    await mailhub.send(
        mail("Anything", "Follow-up", sender="tom@example.com"),
        to=(f"support+{scanner.token}@relaydesk.local",),
    )
    assert (await mailhub.inbound())[-1].conversation_id == printer.id


async def test_mailbox_state_is_shown_to_admins_only(mailhub: MailHub) -> None:
    _agent, agent = await mailhub.agent("alice@example.com")
    _admin, admin = await mailhub.agent("ada@example.com", role=Role.ADMIN)
    assert (await mailhub.client.get("/api/v1/email/mailboxes", headers=auth(agent))).status == 403
    listed = await mailhub.client.get("/api/v1/email/mailboxes", headers=auth(admin))
    items = (await listed.json())["items"]
    assert [(i["channel"], i["source"], i["state"]) for i in items] == [
        ("mail", "smtp", "listening"),
        ("sales", "smtp", "listening"),
    ]
    assert items[0]["detail"] == f"127.0.0.1:{mailhub.smtp_port}"


async def test_email_paths_are_in_the_openapi_document(mailhub: MailHub) -> None:
    document = await (await mailhub.client.get("/api/v1/openapi.json")).json()
    for path in EMAIL_PATHS:
        assert path in document["paths"]

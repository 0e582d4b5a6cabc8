"""The conversation page and what an agent does there: the cross-channel timeline, replies by
the conversation's channel or another identity, notes with @mentions, assignment, transfer,
status, priority, snooze, tags, delivery state with retry, safe email HTML, and 404 for
conversations and attachments of a team the agent is not in."""

from __future__ import annotations

import html
import re
from email.message import EmailMessage

from sqlalchemy import select

from hub.db.inbox_models import Mention, Snooze
from hub.db.models import Agent, Conversation, DuplicateCandidate, Identity, Message, Presence, Role
from tests.hub.web.ui.conftest import UiFactory, inbound, inbound_mail
from tests.support.desk import Desk
from tests.support.poll import eventually
from tests.support.smtp import SmtpSink

SRCDOC = re.compile(r'<iframe class="mail-frame" sandbox="([^"]*)"[^>]*srcdoc="([^"]*)"')


async def _conversation(desk: Desk, conversation_id: int) -> Conversation:
    async with desk.hub.db.reader() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation


async def test_timeline_spans_channels_and_reply_goes_out(
    desk: Desk, ui_agent: UiFactory, smtp_sink: SmtpSink
) -> None:
    sue = await ui_agent("sue@example.com")
    first = await inbound(desk, "Hello from the form", subject="Form question", channel="contact")
    second = await inbound(desk, "And by mail too", subject="Mail question")
    assert first.customer_id == second.customer_id != 0
    page = await sue.page(f"/ui/conversations/{second.conversation_id}")
    assert "Hello from the form" in page and "And by mail too" in page
    assert f"in conversation #{first.conversation_id}" in page
    assert 'class="chan chan-contact"' in page and 'class="chan chan-mail"' in page

    acks = len(await smtp_sink.wait_for(2))
    reply = await sue.post(
        f"/ui/conversations/{second.conversation_id}/reply", {"text": "We are on it.\nSue"}
    )
    assert reply.status == 303
    assert reply.headers["Location"].endswith("notice=reply")
    mails = await smtp_sink.wait_for(acks + 1)
    assert mails[-1].rcpt_tos == ["jane@example.com"]
    assert "We are on it." in mails[-1].text()

    async def sent() -> bool:
        return "Sent" in await sue.page(f"/ui/conversations/{second.conversation_id}/live")

    await eventually(sent, what="the reply shown as sent")
    conversation = await _conversation(desk, second.conversation_id)
    assert conversation.first_response_at is not None


async def test_reply_through_another_identity(
    desk: Desk, ui_agent: UiFactory, smtp_sink: SmtpSink
) -> None:
    sue = await ui_agent("sue@example.com")
    result = await inbound(desk, "Help please", subject="Help")
    async with desk.hub.db.writer() as session:
        session.add(
            Identity(
                customer_id=result.customer_id,
                kind="email",
                address="jane.private@example.net",
                created_at=desk.hub.clock.now(),
            )
        )
        await session.commit()
        other = await session.scalar(
            select(Identity.id).where(Identity.address == "jane.private@example.net")
        )
    page = await sue.page(f"/ui/conversations/{result.conversation_id}")
    assert f'<option value="{other}">jane.private@example.net via mail</option>' in page
    before = len(await smtp_sink.wait_for(1))
    response = await sue.post(
        f"/ui/conversations/{result.conversation_id}/reply",
        {"text": "Answering your private address", "route": str(other)},
    )
    assert response.status == 303
    mails = await smtp_sink.wait_for(before + 1)
    assert mails[-1].rcpt_tos == ["jane.private@example.net"]


async def test_note_with_mention_reaches_the_mentions_view(
    desk: Desk, ui_agent: UiFactory, smtp_sink: SmtpSink
) -> None:
    sue = await ui_agent("sue@example.com")
    max_ = await ui_agent("max.power@example.com")
    result = await inbound(desk, "Where is my parcel?")
    acks = len(await smtp_sink.wait_for(1))
    response = await sue.post(
        f"/ui/conversations/{result.conversation_id}/note",
        {"text": "@max.power can you check the warehouse? <b>not html</b>"},
    )
    assert response.status == 303
    page = await sue.page(f"/ui/conversations/{result.conversation_id}")
    assert "Private note" in page
    assert "&lt;b&gt;not html&lt;/b&gt;" in page
    mentions = await max_.page("/ui/inbox?view=mentions")
    assert f'data-id="{result.conversation_id}"' in mentions
    assert 'data-id="' not in await sue.page("/ui/inbox?view=mentions")
    async with desk.hub.db.reader() as session:
        mention = await session.scalar(select(Mention))
        assert mention is not None and mention.agent_id == max_.agent_id
    assert len(smtp_sink.received) == acks  # a note is never sent to the customer


async def test_assign_transfer_status_priority_and_load(desk: Desk, ui_agent: UiFactory) -> None:
    sue = await ui_agent("sue@example.com", presence=Presence.AWAY)
    boss = await ui_agent("boss@example.com", role=Role.SUPERVISOR, teams=("support",))
    cid = (await inbound(desk, "My screen flickers")).conversation_id
    base = f"/ui/conversations/{cid}"

    # Routing gave it to Boss, who is online: Sue (away) may not take it over, Boss may hand it.
    assert (await _conversation(desk, cid)).assignee_id == boss.agent_id
    assert (await sue.post(f"{base}/assign", {"agent": "me"})).status == 403
    assert (await boss.post(f"{base}/assign", {"agent": str(sue.agent_id)})).status == 303
    forbidden = await sue.post(f"{base}/assign", {"agent": str(boss.agent_id)})
    assert forbidden.status == 403
    assert (await boss.post(f"{base}/priority", {"priority": "urgent"})).status == 303
    assert (await sue.post(f"{base}/status", {"status": "resolved"})).status == 303
    async with desk.hub.db.reader() as session:
        agent = await session.get(Agent, sue.agent_id)
        assert agent is not None and agent.open_count == 0
    assert (await sue.post(f"{base}/status", {"status": "open"})).status == 303
    async with desk.hub.db.reader() as session:
        agent = await session.get(Agent, sue.agent_id)
        assert agent is not None and agent.open_count == 1
    conversation = await _conversation(desk, cid)
    assert (conversation.assignee_id, conversation.priority) == (sue.agent_id, "urgent")
    page = await sue.page(base)
    for line in ("Assigned to Sue", "Priority changed to urgent", "Status changed to resolved"):
        assert line in page

    async with desk.hub.db.reader() as session:
        billing = await session.scalar(
            select(Conversation.team_id).where(Conversation.id != cid).limit(1)
        )
    teams_page = await boss.page(base)
    billing_id = re.search(r'<option value="(\d+)"\s*>Billing</option>', teams_page)
    assert billing_id is not None and billing is None
    moved = await boss.post(f"{base}/team", {"team": billing_id.group(1)})
    assert moved.status == 303
    assert "Moved to team Billing" in await boss.page(base)
    # Sue keeps it: it is still assigned to her, though no longer her team's.
    assert (await sue.get(base)).status == 200
    assert (await boss.post(f"{base}/status", {"status": "snoozed"})).status == 422
    assert (await boss.post(f"{base}/priority", {"priority": "whenever"})).status == 422


async def test_snooze_and_wake(desk: Desk, ui_agent: UiFactory) -> None:
    sue = await ui_agent("sue@example.com")
    cid = (await inbound(desk, "Call me next week")).conversation_id
    response = await sue.post(f"/ui/conversations/{cid}/snooze", {"choice": "1h"})
    assert response.status == 303
    conversation = await _conversation(desk, cid)
    assert conversation.status == "snoozed"
    assert "Snoozed until" in await sue.page(f"/ui/conversations/{cid}")
    assert f'data-id="{cid}"' in await sue.page("/ui/inbox?status=snoozed")
    past = await sue.post(
        f"/ui/conversations/{cid}/snooze", {"choice": "custom", "until": "2001-01-01T09:00"}
    )
    assert past.status == 422
    async with desk.hub.db.writer() as session:
        snooze = await session.get(Snooze, cid)
        assert snooze is not None
        snooze.until = desk.hub.clock.now()
        await session.commit()

    async def woke() -> bool:
        return (await _conversation(desk, cid)).status == "open"

    await eventually(woke, timeout=15, interval=0.2, what="the snoozed conversation reopened")


async def test_tags_add_and_remove(desk: Desk, ui_agent: UiFactory) -> None:
    sue = await ui_agent("sue@example.com")
    cid = (await inbound(desk, "Tag me")).conversation_id
    base = f"/ui/conversations/{cid}"
    assert (await sue.post(f"{base}/tags", {"add": "VIP, returns"})).status == 303
    assert f'data-id="{cid}"' in await sue.page("/ui/inbox?tag=vip")
    assert (await sue.post(f"{base}/tags", {"remove": "vip"})).status == 303
    assert 'data-id="' not in await sue.page("/ui/inbox?tag=vip")
    assert f'data-id="{cid}"' in await sue.page("/ui/inbox?tag=returns")
    bad = await sue.post(f"{base}/tags", {"add": "<script>"})
    assert bad.status == 422


async def test_failed_delivery_shows_reason_and_retries(
    desk: Desk, ui_agent: UiFactory, smtp_sink: SmtpSink
) -> None:
    sue = await ui_agent("sue@example.com")
    cid = (await inbound(desk, "Are you there?")).conversation_id
    acks = len(await smtp_sink.wait_for(1))
    smtp_sink.reject_with = "550 5.1.1 mailbox unavailable"
    await sue.post(f"/ui/conversations/{cid}/reply", {"text": "Yes we are"})
    async with desk.hub.db.reader() as session:
        message_id = await session.scalar(
            select(Message.id).where(Message.text.contains("Yes we are"))
        )

    async def failed() -> bool:
        page = await sue.page(f"/ui/conversations/{cid}/live")
        return "Failed" in page and "mailbox unavailable" in page

    await eventually(failed, what="the reply shown as failed")
    smtp_sink.reject_with = None
    retry = await sue.post(f"/ui/messages/{message_id}/retry")
    assert retry.status == 303
    mails = await smtp_sink.wait_for(acks + 1)
    assert "Yes we are" in mails[-1].text()
    again = await sue.post(f"/ui/messages/{message_id}/retry")
    assert again.status == 409


async def test_email_html_is_shown_in_a_sandbox_without_scripts(
    desk: Desk, ui_agent: UiFactory
) -> None:
    sue = await ui_agent("sue@example.com")
    payload = (
        '<p onclick="alert(1)">Hi<script>alert("x")</script>'
        '<img src="https://tracker.example/pixel.png" onerror="alert(2)"></p>'
    )
    cid = (await inbound(desk, "Hi", html=payload)).conversation_id
    page = await sue.page(f"/ui/conversations/{cid}")
    found = SRCDOC.search(page)
    assert found is not None
    assert "allow-scripts" not in found.group(1)
    document = html.unescape(found.group(2))
    assert "<script" not in document and "onerror" not in document and "onclick" not in document
    assert 'data-rd-src="https://tracker.example/pixel.png"' in document
    assert ' src="https://' not in document
    assert "img-src data: cid;" not in document and "img-src data: cid:" in document
    assert "1 remote image blocked" in page


async def test_other_teams_conversation_and_attachment_are_not_found(
    desk: Desk, ui_agent: UiFactory
) -> None:
    sue = await ui_agent("sue@example.com", teams=("support",))
    bob = await ui_agent("bob@example.com", teams=("billing",))
    mail = EmailMessage()
    mail["From"] = "Tom Baker <tom@example.com>"
    mail["To"] = "support@relaydesk.local"
    mail["Subject"] = "Wrong invoice"
    mail["Message-ID"] = "<invoice-1@example.com>"
    mail.set_content("Invoice attached, it is wrong")
    mail.add_attachment(
        b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="invoice.pdf"
    )
    result = await inbound_mail(desk, mail)
    async with desk.hub.db.reader() as session:
        message_id = await session.scalar(select(Message.id).where(Message.direction == "inbound"))
    cid = result.conversation_id
    for path in (
        f"/ui/conversations/{cid}",
        f"/ui/conversations/{cid}/live",
        f"/ui/attachments/{message_id}/0",
    ):
        response = await sue.get(path)
        assert response.status == 404, path
        assert "not yours to see" in await response.text()
    for action, data in (
        ("reply", {"text": "hi"}),
        ("note", {"text": "x"}),
        ("assign", {"agent": "me"}),
    ):
        response = await sue.post(f"/ui/conversations/{cid}/{action}", data)
        assert response.status == 404, action
    search = await sue.get(f"/ui/canned/search?conversation={cid}")
    assert search.status == 404
    page = await bob.page(f"/ui/conversations/{cid}")
    assert "invoice.pdf" in page
    owner = await bob.get(f"/ui/attachments/{message_id}/0")
    assert owner.status == 200
    assert await owner.read() == b"%PDF-1.4 fake"
    assert owner.headers["Content-Disposition"].startswith("attachment;")
    missing = await bob.get(f"/ui/attachments/{message_id}/7")
    assert missing.status == 404


async def test_merge_duplicate_and_undo(desk: Desk, ui_agent: UiFactory) -> None:
    sue = await ui_agent("sue@example.com")
    old = await inbound(desk, "First contact", email="jane.cooper@acme.example")
    new = await inbound(desk, "Second contact", email="jane.cooper@gmail.example")
    assert old.customer_id != new.customer_id
    async with desk.hub.db.reader() as session:
        candidate = await session.scalar(select(DuplicateCandidate))
        assert candidate is not None
    base = f"/ui/conversations/{new.conversation_id}"
    page = await sue.page(base)
    assert "Possible duplicates" in page and "jane.cooper@acme.example" in page
    merged = await sue.post(
        f"/ui/customers/{new.customer_id}/merge", {"other": str(old.customer_id), "back": base}
    )
    assert merged.status == 303
    page = await sue.page(base)
    assert "First contact" in page and "Second contact" in page
    assert "Possible duplicates" not in page
    undo = re.search(r'action="(/ui/merges/\d+/undo)"', page)
    assert undo is not None
    assert (await sue.post(undo.group(1), {"back": base})).status == 303
    page = await sue.page(base)
    assert "First contact" not in page and "Possible duplicates" in page
    async with desk.hub.db.reader() as session:
        identity = await session.scalar(
            select(Identity).where(Identity.address == "jane.cooper@acme.example")
        )
        assert identity is not None and identity.customer_id == old.customer_id
    assert (await sue.post(undo.group(1), {"back": base})).status == 409

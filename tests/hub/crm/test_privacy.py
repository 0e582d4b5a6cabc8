"""A customer's data, asked for and erased. A supervisor downloads everything held about Jane as
one zip whose JSON holds what her profile shows plus every message and attachment; an admin
erases her, after which no table holds her name, address, phone, notes or what she wrote,
nothing will be sent to her, the reports count her conversation as before, and her next mail
starts a new customer. Both are audited; a second erase changes nothing and says so."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.agent.inbox_search import conversation_condition
from hub.core.consent import record_consent
from hub.db.admin_models import AdminChange
from hub.db.base import Base
from hub.db.campaign_models import ConsentSource, ConsentState
from hub.db.models import Conversation, Identity, Message, OutboxItem, Role
from hub.db.routing_models import CsatResponse
from tests.conftest import auth
from tests.hub.web.ui.conftest import inbound
from tests.support.agent_api import call
from tests.support.customer_data import mail_with_attachment, note_with_file
from tests.support.desk import Desk, MakeDesk
from tests.support.smtp import SmtpSink

PDF = b"%PDF-1.7\nJane's broken parcel photo " + bytes(range(256))
RECEIPT = b"refund receipt for order 4711"
SECRETS = (
    "jane.cooper@example.com",
    "Jane Cooper",
    "+15550100",
    "parcel 4711 arrived broken",
    "refund approved for Jane",
    "Prefers calls before 9",
    "gold-plan",
    "photo-4711.pdf",
)


async def jane_with_history(desk: Desk, admin: str, boss: str) -> tuple[int, int]:
    """Jane: a mail with a photo, an agent's note with a receipt, a phone, consent, a rating and
    profile edits. Returns (customer id, conversation id)."""
    mail = await mail_with_attachment(
        desk,
        sender="jane.cooper@example.com",
        name="Jane Cooper",
        text="My parcel 4711 arrived broken",
        filename="photo-4711.pdf",
        content=PDF,
    )
    await note_with_file(
        desk,
        admin,
        mail.conversation_id,
        text="refund approved for Jane",
        filename="receipt.txt",
        content=RECEIPT,
    )
    now = datetime.now(UTC)
    async with desk.db.writer() as session:
        phone = Identity(
            customer_id=mail.customer_id, kind="phone", address="+15550100", created_at=now
        )
        session.add(phone)
        await session.flush()
        email_id = await session.scalar(
            select(Identity.id).where(Identity.address == "jane.cooper@example.com")
        )
        assert email_id is not None
        await record_consent(session, email_id, ConsentState.GRANTED, ConsentSource.FORM, now)
        session.add(
            CsatResponse(conversation_id=mail.conversation_id, score=5, via="link", created_at=now)
        )
        await session.commit()
    status, _ = await call(
        desk.client,
        "PATCH",
        f"/api/v1/customers/{mail.customer_id}",
        boss,
        {
            "tags": ["vip"],
            "notes": "Prefers calls before 9",
            "attributes": {"plan": "gold-plan"},
            "company": "Cooper Ltd",
        },
    )
    assert status == 200
    return mail.customer_id, mail.conversation_id


async def people(desk: Desk) -> tuple[str, str, str]:
    _, admin = await desk.agent("root@example.com", role=Role.ADMIN)
    _, boss = await desk.agent("boss@example.com", role=Role.SUPERVISOR)
    _, agent = await desk.agent("alice@example.com")
    return admin, boss, agent


async def download(desk: Desk, customer_id: int, token: str) -> tuple[int, Any]:
    response = await desk.client.get(f"/api/v1/customers/{customer_id}/export", headers=auth(token))
    if response.status != 200:
        return response.status, await response.json()
    assert response.content_type == "application/zip"
    return 200, zipfile.ZipFile(io.BytesIO(await response.read()))


async def privacy_audit(desk: Desk) -> list[tuple[str, str]]:
    async with desk.db.reader() as session:
        rows = await session.execute(
            select(AdminChange.action, AdminChange.target)
            .where(AdminChange.area == "privacy")
            .order_by(AdminChange.id)
        )
        return [(action, target) for action, target in rows.all()]


async def test_export_holds_what_the_profile_shows_and_every_file(desk: Desk) -> None:
    admin, boss, agent = await people(desk)
    jane, conversation = await jane_with_history(desk, admin, boss)

    status, profile = await call(desk.client, "GET", f"/api/v1/customers/{jane}/profile", boss)
    assert status == 200
    status, archive = await download(desk, jane, boss)
    assert status == 200
    data = json.loads(archive.read("customer.json"))

    customer = data["customer"]
    for key in ("name", "company", "tier", "tags", "attributes", "notes", "locale", "timezone"):
        assert customer[key] == profile[key], key
    assert [(i["kind"], i["address"]) for i in data["identities"]] == [
        (i["kind"], i["address"]) for i in profile["identities"]
    ]
    assert [(c["kind"], c["address"], c["state"], c["source"]) for c in data["consents"]] == [
        (c["kind"], c["address"], c["state"], c["source"]) for c in profile["consents"]
    ]
    assert [(h["state"], h["source"]) for h in data["consent_history"]] == [("granted", "form")]
    assert [(c["id"], c["subject"]) for c in data["conversations"]] == [
        (e["conversation_id"], e["subject"]) for e in profile["timeline"]
    ]
    assert [t["number"] for t in data["tickets"]] == [
        e["ticket_number"] for e in profile["timeline"]
    ]
    assert [(r["conversation_id"], r["score"]) for r in data["satisfaction"]] == [
        (r["conversation_id"], r["score"]) for r in profile["ratings"]
    ]
    assert {(c["field"], c["new_value"]) for c in data["changes"]} == {
        (c["field"], c["new_value"]) for c in profile["changes"]
    }
    assert data["campaigns"] == []

    [conv] = data["conversations"]
    assert conv["id"] == conversation
    texts = [m["text"] for m in conv["messages"]]
    assert any("parcel 4711 arrived broken" in t for t in texts)
    assert "refund approved for Jane" in texts
    files = {
        a["filename"]: archive.read(a["file"])
        for m in conv["messages"]
        for a in m["attachments"]
        if a["file"]
    }
    assert files == {"photo-4711.pdf": PDF, "receipt.txt": RECEIPT}
    [mail] = [m for m in conv["messages"] if "raw_mail" in m]
    assert b"parcel 4711" in archive.read(mail["raw_mail"])

    status, refused = await download(desk, jane, agent)
    assert status == 403 and "supervisors and admins" in refused["error"]["message"]
    assert await privacy_audit(desk) == [("export", f"customer {jane}")]


async def every_text(desk: Desk) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text, JSON and binary value in every table."""
    found = []
    async with desk.db.reader() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        value = json.dumps(value, ensure_ascii=False)
                    if isinstance(value, str) and value:
                        found.append((table.name, str(column), value))
    return found


async def conversations_found(session: AsyncSession, query: str) -> list[int]:
    """The conversations the inbox's search box finds for ``query``."""
    condition = await conversation_condition(session, query)
    assert condition is not None
    return list(await session.scalars(select(Conversation.id).where(condition)))


async def test_erase_leaves_no_trace_keeps_the_counts_and_is_done_once(desk: Desk) -> None:
    admin, boss, _ = await people(desk)
    jane, conversation = await jane_with_history(desk, admin, boss)
    volume_before = await call(desk.client, "GET", "/api/v1/reports/volume", admin)
    traces = [
        (table, column)
        for table, column, value in await every_text(desk)
        if any(secret.lower() in value.lower() for secret in SECRETS)
    ]
    assert {"customers", "identities", "messages", "email_messages"} <= {t for t, _ in traces}

    found = await call(desk.client, "GET", "/api/v1/search?q=parcel+4711+broken", admin)
    assert found[0] == 200 and found[1]["hits"], found
    async with desk.db.reader() as session:
        assert await conversations_found(session, "jane.cooper") == [conversation]

    status, refused = await call(desk.client, "POST", f"/api/v1/customers/{jane}/erase", boss)
    assert status == 403 and "admins only" in refused["error"]["message"]

    status, erased = await call(desk.client, "POST", f"/api/v1/customers/{jane}/erase", admin)
    assert status == 200, erased
    assert erased["already_erased"] is False
    assert erased["counts"] == {
        "customers": 1,
        "identities": 2,
        "conversations": 1,
        "messages": erased["counts"]["messages"],
        "attachments": 2,
    }
    leftovers = [
        (table, column, value[:80])
        for table, column, value in await every_text(desk)
        if any(secret.lower() in value.lower() for secret in SECRETS)
    ]
    assert leftovers == []
    # Search forgets them too: messages, names and addresses.
    for words in ("parcel 4711 broken", "refund approved", "jane cooper", "example.com"):
        query = "+".join(words.split())
        status, found = await call(desk.client, "GET", f"/api/v1/search?q={query}", admin)
        assert status == 200 and found["hits"] == [], (words, found)
    async with desk.db.reader() as session:
        for words in ("jane cooper", "jane.cooper@example.com", "15550100"):
            assert await conversations_found(session, words) == [], words

    status, profile = await call(desk.client, "GET", f"/api/v1/customers/{jane}/profile", admin)
    assert profile["name"] == "" and profile["tags"] == [] and profile["attributes"] == {}
    assert [(c["state"], c["source"]) for c in profile["consents"]] == [
        ("suppressed", "erasure"),
        ("suppressed", "erasure"),
    ]
    assert [e["conversation_id"] for e in profile["timeline"]] == [conversation]
    assert await call(desk.client, "GET", "/api/v1/reports/volume", admin) == volume_before
    assert [sum(c["conversations_by_day"]) for c in volume_before[1]["channels"]] == [1]

    again = await call(desk.client, "POST", f"/api/v1/customers/{jane}/erase", admin)
    assert again[0] == 200 and again[1]["already_erased"] is True
    assert again[1]["erased_at"] == erased["erased_at"]
    assert await privacy_audit(desk) == [("erase", f"customer {jane}")]

    back = await inbound(desk, "Hello again", email="jane.cooper@example.com", name="Jane Cooper")
    assert back.customer_id != jane and back.conversation_id != conversation
    async with desk.db.reader() as session:
        owners = await session.scalar(
            select(func.count()).where(Identity.address == "jane.cooper@example.com")
        )
    assert owners == 1


GIVEN_UP = {("failed", "not sent: the customer was erased", "failed")}


async def reply_to_jane(desk: Desk, admin: str) -> tuple[Any, dict[str, Any]]:
    """Jane writes in and an agent replies: the reply (and the acknowledgement) wait in the
    outbox, as no worker runs."""
    mail = await inbound(desk, "Where is my order?", email="jane@example.com")
    status, reply = await call(
        desk.client,
        "POST",
        f"/api/v1/conversations/{mail.conversation_id}/messages",
        admin,
        {"text": "It ships today, Jane"},
    )
    assert status == 201 and reply["delivery_state"] == "queued"
    return mail, reply


async def erase(desk: Desk, admin: str, customer_id: int) -> None:
    status, _ = await call(desk.client, "POST", f"/api/v1/customers/{customer_id}/erase", admin)
    assert status == 200


async def outbox_of(desk: Desk, conversation_id: int) -> set[tuple[Any, ...]]:
    """Each outbound message's outbox state and error and the state its agent sees."""
    async with desk.db.reader() as session:
        rows = await session.execute(
            select(OutboxItem.state, OutboxItem.last_error, Message.delivery_state)
            .join(Message, Message.id == OutboxItem.message_id)
            .where(Message.conversation_id == conversation_id)
        )
        return {tuple(row) for row in rows}


async def test_a_reply_still_queued_for_an_erased_customer_is_not_sent(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk(workers=False)  # no dispatcher: the reply waits in the outbox
    admin, _, _ = await people(desk)
    mail, _ = await reply_to_jane(desk, admin)
    await erase(desk, admin, mail.customer_id)
    assert await outbox_of(desk, mail.conversation_id) == GIVEN_UP


async def test_a_mail_claimed_for_sending_just_before_an_erasure_is_not_sent(
    make_desk: MakeDesk, smtp_sink: SmtpSink
) -> None:
    desk = await make_desk(workers=False)  # the test runs the outbox's steps itself
    admin, _, _ = await people(desk)
    mail, reply = await reply_to_jane(desk, admin)
    dispatcher = desk.hub.dispatcher
    claimed = await dispatcher.queue.claim()  # the worker has them, not sent yet
    assert reply["id"] in {claim.carried["message_id"] for claim in claimed}

    await erase(desk, admin, mail.customer_id)
    await dispatcher.queue.run_claims(dispatcher, claimed)

    assert smtp_sink.received == []  # neither the reply nor the acknowledgement went out
    assert (
        await outbox_of(desk, mail.conversation_id)
        == GIVEN_UP
        == {("failed", "not sent: the customer was erased", "failed")}
    )

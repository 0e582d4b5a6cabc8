"""Who wrote last, as the live view counts it: a customer's message puts the conversation in
"waiting for us"; only an agent's reply that was delivered takes it out. The acknowledgement,
the FAQ bot's answer and a reply whose delivery failed leave it waiting; a conversation that
existed before the upgrade is counted the same way."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import select

from hub.db.models import Conversation, Role
from hub.platform.migrate import upgrade
from tests.hub.reports.conftest import MONDAY_9, Story
from tests.support.desk import auth


async def waiting(story: Story, token: str) -> dict[str, int]:
    response = await story.desk.client.get("/api/v1/live", headers=auth(token))
    assert response.status == 200, await response.text()
    total = (await response.json())["total"]
    return {"us": total["waiting_us"], "customer": total["waiting_customer"]}


async def test_only_a_delivered_agent_reply_answers_the_customer(story: Story) -> None:
    desk = story.desk
    _, boss = await desk.agent("boss@example.com", role=Role.ADMIN, teams=(), capacity=0)
    _, story.token = await desk.agent("ann@example.com")
    faq = await desk.client.post(
        "/api/v1/routing/faq",
        json={"question": "How do I reset my password?", "answer": "Use 'Forgot password'."},
        headers=auth(boss),
    )
    assert faq.status == 201

    alice = await story.writes("alice@example.com", "My invoice is wrong")
    assert any(m.automated for m in desk.sent("mail"))  # the acknowledgement went out
    assert await waiting(story, boss) == {"us": 1, "customer": 0}

    await story.replies(alice, "FAIL: this one never arrives")  # the provider refuses it
    assert await waiting(story, boss) == {"us": 1, "customer": 0}

    await story.replies(alice, "Sorry, fixing it now")
    assert await waiting(story, boss) == {"us": 0, "customer": 1}

    carol = await story.writes("carol@example.com", "How do I reset my password?")
    assert [m.automated for m in desk.sent("api")][-1] is True  # the bot's answer
    assert await waiting(story, boss) == {"us": 1, "customer": 1}

    await story.writes("alice@example.com", "Still wrong, see attached")
    assert await waiting(story, boss) == {"us": 2, "customer": 0}
    async with desk.db.reader() as session:
        parties = dict(
            (await session.execute(select(Conversation.id, Conversation.last_party))).all()
        )
    assert parties == {alice: "customer", carol: "customer"}


def test_the_upgrade_sets_who_wrote_last_on_existing_conversations(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0020_admin_audit")
    when = MONDAY_9.replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO agents (email, name, role, capacity, open_count, presence, skills,"
            " active, created_at) VALUES ('a@x.example', 'A', 'agent', 10, 0, 'online', '[]', 1,"
            " ?)",
            (when,),
        )
        db.execute(
            "INSERT INTO customers (name, name_key, company, tier, tags, attributes, locale,"
            " timezone, consent, notes, created_at) VALUES ('C', 'c', '', 'standard', '[]', '{}',"
            " 'en', 'UTC', '{}', '', ?)",
            (when,),
        )
        # 1: the customer, then our acknowledgement; 2: answered, then a failed reply;
        # 3: nobody wrote (an event only).
        for n in (1, 2, 3):
            db.execute(
                "INSERT INTO conversations (token, customer_id, channel, subject, status,"
                " priority, created_at, last_activity_at) VALUES (?, 1, 'mail', '', 'open',"
                " 'normal', ?, ?)",
                (f"t{n}", when, when),
            )
        messages = [
            (1, "inbound", None, 0, "received", "Where is my parcel?"),
            (1, "outbound", None, 1, "sent", "We got your message"),
            (2, "inbound", None, 0, "received", "Hello"),
            (2, "outbound", 1, 0, "sent", "Hi, how can we help?"),
            (2, "outbound", 1, 0, "failed", "Anything else?"),
            (3, "event", None, 0, "none", "Assigned"),
        ]
        for conversation, direction, author, automated, state, text in messages:
            db.execute(
                "INSERT INTO messages (conversation_id, customer_id, direction, channel,"
                " author_agent_id, subject, text, attachments, raw, automated, delivery_state,"
                " created_at) VALUES (?, 1, ?, 'mail', ?, '', ?, '[]', '{}', ?, ?, ?)",
                (conversation, direction, author, text, automated, state, when),
            )
    upgrade(url)
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT id, last_party, last_party_message_id, last_customer_message_id"
            " FROM conversations ORDER BY id"
        ).fetchall()
    assert rows == [(1, "customer", 1, 1), (2, "agent", 4, 3), (3, None, None, None)]

"""Follow-ups: persisted jobs that survive a restart and fire once, never after the conversation
moved on; automatic resolution and a satisfaction survey answered by a digit or a signed link;
a template error goes to the admin who saved the template, never to the customer; the
acknowledgement differs outside business hours."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from hub.db.models import ConversationStatus, Direction, Message, Role
from hub.db.routing_models import CsatResponse, Job
from tests.support.agent_api import pending_after_reply
from tests.support.desk import Desk, MakeDesk, auth

REMINDER = {"name": "nudge", "trigger": "pending", "delay_minutes": 60, "template": "reminder"}


def _texts(desk: Desk) -> list[str]:
    return desk.texts("api")


async def test_job_survives_restart_and_fires_once(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"followups.rules": [REMINDER]})
    _, token = await desk.agent("agent@example.com")
    conversation_id = await pending_after_reply(desk, token)
    await desk.client.close()  # the hub stops; the job is only in the database

    desk.clock.advance(timedelta(minutes=61))
    # A new hub process whose own runner (polling) finds the due job.
    restarted = await make_desk(
        desk.clock,
        memory=desk.memory,  # the customer's side of the channels outlives the process
        **{"followups.rules": [REMINDER], "jobs.poll_seconds": 0.05},
    )
    await restarted.wait_sent(2, channel="api")
    assert "waiting for your answer" in _texts(restarted)[1]
    await restarted.run_jobs()
    await restarted.run_jobs()
    async with restarted.hub.db.reader() as session:
        reminders = (
            await session.scalars(
                select(Message).where(
                    Message.conversation_id == conversation_id,
                    Message.direction == Direction.OUTBOUND,
                    Message.automated.is_(True),
                    Message.text.contains("waiting for your answer"),
                )
            )
        ).all()
        job = await session.scalar(select(Job).where(Job.kind == "followup"))
    assert len(reminders) == 1
    assert job is not None and job.state == "done"


async def test_no_follow_up_after_the_customer_answered(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"followups.rules": [REMINDER]})
    _, token = await desk.agent("agent@example.com")
    await pending_after_reply(desk, token)
    desk.clock.advance(timedelta(minutes=30))
    await desk.customer_writes("It was order 4711")  # reopens the conversation before the reminder
    desk.clock.advance(timedelta(minutes=31))
    await desk.run_jobs()
    async with desk.hub.db.reader() as session:
        job = await session.scalar(select(Job).where(Job.kind == "followup"))
    assert job is not None and job.state == "skipped"
    assert not any("waiting for your answer" in text for text in _texts(desk))


async def test_auto_resolve_then_survey_answered_by_digit_and_link(make_desk: MakeDesk) -> None:
    rules = [
        {"name": "close", "trigger": "pending", "action": "resolve", "delay_minutes": 10080},
        {"name": "csat", "trigger": "resolved", "action": "survey", "template": "csat_survey"},
    ]
    desk = await make_desk(**{"followups.rules": rules})
    _, token = await desk.agent("agent@example.com")
    conversation_id = await pending_after_reply(desk, token)
    desk.clock.advance(timedelta(days=7, minutes=1))
    for _ in range(3):  # resolve; schedule the survey; send it
        await desk.run_jobs()
    assert (await desk.conversation(conversation_id)).status == ConversationStatus.RESOLVED
    await desk.wait_sent(2, channel="api")  # the agent's reply, then the survey
    [survey] = [t for t in _texts(desk) if "How satisfied" in t]
    await desk.customer_writes("4")
    async with desk.hub.db.reader() as session:
        answer = await session.scalar(select(CsatResponse))
    assert answer is not None and (answer.score, answer.via) == (4, "reply")
    assert (await desk.conversation(conversation_id)).status == ConversationStatus.RESOLVED

    link = re.search(r"http://\S+/csat/\d+/5\?sig=\w+", survey)
    assert link is not None
    path = link.group(0).split("8080", 1)[1]
    clicked = await desk.client.get(path)
    assert clicked.status == 200 and "5" in await clicked.text()
    forged = await desk.client.get(re.sub(r"sig=\w+", "sig=0000", path))
    assert forged.status == 404
    async with desk.hub.db.reader() as session:
        answer = await session.scalar(select(CsatResponse))
    assert answer is not None and (answer.score, answer.via) == (5, "link")


async def test_template_error_goes_to_the_admin_not_the_customer(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"followups.rules": [REMINDER]})
    _, admin_token = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    _, token = await desk.agent("agent@example.com")
    broken = await desk.client.put(
        "/api/v1/routing/templates/reminder",
        json={"txt": "Hello {{ customer.name"},
        headers=auth(admin_token),
    )
    assert broken.status == 422
    assert (await broken.json())["error"]["code"] == "template_error"
    preview = await desk.client.post(
        "/api/v1/routing/templates/reminder/preview",
        json={"txt": "Hello {{ customer.name }}, ticket #{{ ticket.number }}"},
        headers=auth(admin_token),
    )
    assert (await preview.json())["text"] == "Hello Jane Cooper, ticket #1042\n"
    # Renders with the sample ticket (1042), fails on the first real one (1000).
    saved = await desk.client.put(
        "/api/v1/routing/templates/reminder",
        json={"txt": "Hello, {{ 10 // (ticket.number - 1000) }} reminders left."},
        headers=auth(admin_token),
    )
    assert saved.status == 200
    agent_view = await desk.client.put(
        "/api/v1/routing/templates/reminder", json={"txt": "x"}, headers=auth(token)
    )
    assert agent_view.status == 403
    conversation_id = await pending_after_reply(desk, token)
    desk.clock.advance(timedelta(hours=2))
    await desk.run_jobs()
    notices = await desk.client.get("/api/v1/routing/notices", headers=auth(admin_token))
    [notice] = (await notices.json())["items"]
    assert notice["kind"] == "template_error"
    assert notice["conversation_id"] == conversation_id
    assert "ZeroDivisionError" in notice["text"]
    assert not any("reminders left" in text for text in _texts(desk))


async def _ack_text(desk: Desk, count: int) -> str:
    received = await desk.wait_sent(count, channel="mail")
    return received[count - 1].text


async def test_acknowledgement_differs_outside_business_hours(make_desk: MakeDesk) -> None:
    settings: dict[str, Any] = {
        "followups.calendar": "office",
        "followups.outside_hours_template": "ack_outside_hours",
    }
    desk = await make_desk(**settings)
    await desk.agent("agent@example.com")
    await desk.customer_writes(
        "Inside hours", sender="monday@example.com"
    )  # Monday 10:00 in Berlin
    assert "answer you soon" in await _ack_text(desk, 1)
    desk.clock.current = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)  # Saturday
    await desk.customer_writes("On the weekend", sender="saturday@example.com")
    assert "Our team is away right now" in await _ack_text(desk, 2)

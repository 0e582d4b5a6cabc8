"""A channel that cannot deliver replies says so before the agent writes (the composer on the
conversation page, ``reply_problem`` in the API), and a reply whose delivery failed never counts
as the conversation's first response: not for the SLA clock, not for the reports."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.config.settings import Settings
from hub.db.report_models import ReportFact
from tests.conftest import fake_endpoints, make_settings
from tests.hub.web.ui.conftest import UiFactory
from tests.support.agent_api import call, start_conversation
from tests.support.desk import Desk
from tests.support.poll import eventually
from tests.support.recorder import HttpRecorder
from tests.support.smtp import SmtpSink


@pytest.fixture
def settings(database_url: str, smtp_sink: SmtpSink, callback_server: HttpRecorder) -> Settings:
    """The demo's API channel: no callback_url, so replies cannot be delivered."""
    endpoints = fake_endpoints(smtp_sink, callback_server)
    return make_settings(database_url, **{**endpoints, "channels.api.callback_url": ""})


async def test_composer_warns_and_a_failed_reply_is_no_first_response(
    desk: Desk, ui_agent: UiFactory
) -> None:
    alice = await ui_agent("alice@example.com")
    _, token = await desk.agent("bob@example.com")
    started = await start_conversation(
        desk.client, desk.hub, "ord-9", "jane@example.com", "Where is my parcel?"
    )
    conversation_id = started["conversation_id"]
    path = f"/api/v1/conversations/{conversation_id}"

    page = await alice.page(f"/ui/conversations/{conversation_id}")
    assert "data-reply-problem" in page
    assert "cannot be delivered" in page and "callback_url" in page
    status, shown = await call(desk.client, "GET", path, token)
    assert status == 200
    assert "callback_url" in shown["reply_problem"]
    due_before = shown["ticket"]["first_response_due_at"]

    status, reply = await call(
        desk.client, "POST", f"{path}/messages", token, {"text": "On its way.", "private": False}
    )
    assert status == 201, reply

    async def failed() -> bool:
        _, listed = await call(desk.client, "GET", f"{path}/messages", token)
        [found] = [m for m in listed["items"] if m["id"] == reply["id"]]
        return bool(found["delivery_state"] == "failed")

    await eventually(failed, what="the reply failed")

    # the reply's failure is written with the message: the conversation is still unanswered
    status, after = await call(desk.client, "GET", path, token)
    assert status == 200 and after["first_response_at"] is None
    assert after["ticket"]["first_response_due_at"] == due_before
    assert (await desk.conversation(conversation_id)).sla_due_at is not None
    async with desk.db.reader() as session:
        facts = (
            await session.scalars(
                select(ReportFact).where(ReportFact.conversation_id == conversation_id)
            )
        ).all()
    assert [(f.kind, f.state) for f in facts if f.kind in ("first_response", "response")] == [
        ("first_response", "pending")
    ]

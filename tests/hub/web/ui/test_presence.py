"""Presence is the agent's to set, and routing reads it: an agent who goes offline gets no new
conversations and keeps the ones they have.

The routing engine can instead hand an offline agent's conversations to colleagues
(``routing.assignment.reassign_offline``); these tests turn that off to check what the agent
app promises."""

from __future__ import annotations

import pytest

from hub.config.settings import Settings
from hub.db.models import Agent, Conversation, Presence
from tests.conftest import fake_endpoints, make_settings
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk
from tests.support.recorder import HttpRecorder
from tests.support.smtp import SmtpSink


@pytest.fixture
def settings(database_url: str, smtp_sink: SmtpSink, callback_server: HttpRecorder) -> Settings:
    return make_settings(
        database_url,
        **fake_endpoints(smtp_sink, callback_server),
        **{
            "routing.assignment.reassign_offline": False,
        },
    )


async def test_going_offline_keeps_assigned_work(desk: Desk, ui_agent: UiFactory) -> None:
    sue = await ui_agent("sue@example.com")
    mine = (await inbound(desk, "first question")).conversation_id
    assert (await sue.post("/ui/presence", {"presence": "offline"})).status == 303
    later = (await inbound(desk, "second question", email="b@example.com")).conversation_id
    async with desk.hub.db.reader() as session:
        agent = await session.get(Agent, sue.agent_id)
        assert agent is not None and agent.presence == Presence.OFFLINE
        kept = await session.get(Conversation, mine)
        queued = await session.get(Conversation, later)
        assert kept is not None and kept.assignee_id == sue.agent_id
        assert queued is not None and queued.assignee_id is None
    page = await sue.page("/ui/inbox?view=mine")
    assert f'data-id="{mine}"' in page
    assert '<option value="offline" selected>' in page
    assert (await sue.post("/ui/presence", {"presence": "busy"})).status == 422

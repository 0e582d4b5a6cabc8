"""A hub with every kind of channel a campaign reaches: mail to the SMTP sink, Telegram ``tg``
and Slack ``sl`` on the local fake provider servers, and the web chat widget ``chat`` played by an
in-memory channel (it records what it was asked to send).

The default ``settings`` run the hub with its email side (inbound SMTP on an ephemeral port,
outgoing mail to the SMTP sink), as bounces, mailed replies and mailto: unsubscribes arrive
there."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pytest

from hub.campaigns import drafting, retries, send_control, send_progress
from hub.campaigns.views import CampaignDraft, Progress
from hub.config.settings import Settings
from hub.core.authz import Principal
from tests.channels.slack.conftest import slack_overrides
from tests.channels.telegram.conftest import telegram_overrides
from tests.conftest import fake_endpoints, make_settings
from tests.hub.email.conftest import mail_settings
from tests.support.desk import Desk, MakeDesk
from tests.support.fake_provider import fake_fixture
from tests.support.fake_slack import FakeSlack
from tests.support.fake_telegram import FakeTelegram
from tests.support.poll import eventually
from tests.support.recorder import HttpRecorder
from tests.support.smtp import SmtpSink

CONTENT: dict[str, dict[str, str]] = {
    "email": {
        "subject": "Winter sale, {{ customer.first_name | default('friend') }}",
        "html": "<p>Hi {{ customer.first_name | default('there') }}, the **sale** starts.</p>",
        "text": "Hi {{ customer.first_name | default('there') }}, the **sale** starts.",
    },
    "chat": {"text": "Hi {{ customer.first_name | default('there') }}, the **sale** starts."},
}


@pytest.fixture
def settings(database_url: str, smtp_sink: SmtpSink) -> Settings:
    return mail_settings(database_url, smtp_sink)


fake_telegram = fake_fixture(FakeTelegram)
fake_slack = fake_fixture(FakeSlack)


def campaign_overrides(**extra: Any) -> dict[str, Any]:
    return {
        "campaigns.poll_seconds": 0.05,
        "campaigns.quiet_hours": False,
    } | extra


@pytest.fixture
def make_campaign_desk(
    database_url: str,
    smtp_sink: SmtpSink,
    callback_server: HttpRecorder,
    fake_telegram: FakeTelegram,
    fake_slack: FakeSlack,
    make_desk: MakeDesk,
) -> Any:
    async def make(*, real_widget: bool = False, **extra: Any) -> Desk:
        settings = make_settings(
            database_url,
            **fake_endpoints(smtp_sink, callback_server),
            **telegram_overrides(fake_telegram),
            **slack_overrides(fake_slack),
            **campaign_overrides(**extra),
        )
        return await make_desk(settings=settings, memory=() if real_widget else ("chat",))

    return make


@pytest.fixture
async def campaign_desk(make_campaign_desk: Any) -> Desk:
    desk: Desk = await make_campaign_desk()
    return desk


async def create(
    desk: Desk,
    principal: Principal,
    segment_id: int,
    *,
    content: Mapping[str, Mapping[str, str]] = CONTENT,
    fallback: tuple[str, ...] = (),
    name: str = "Winter sale",
) -> int:
    async with desk.db.writer() as session:
        view = await drafting.create_campaign(
            session,
            principal,
            CampaignDraft(name, segment_id, content, fallback),
            desk.hub.clock.now(),
        )
        await session.commit()
        return view.id


async def send(desk: Desk, principal: Principal, campaign_id: int) -> Progress:
    async with desk.db.writer() as session:
        progress = await send_control.send_now(
            session, principal, desk.hub.campaigns.context, campaign_id, desk.hub.clock.now()
        )
        await session.commit()
    desk.hub.campaigns.context.wake()
    return progress


async def act(desk: Desk, principal: Principal, action: str, campaign_id: int) -> Any:
    async with desk.db.writer() as session:
        engine = retries if action.startswith("retry") else send_control
        result = await getattr(engine, action)(
            session, principal, campaign_id, desk.hub.clock.now()
        )
        await session.commit()
    desk.hub.campaigns.context.wake()
    return result


async def progress(desk: Desk, principal: Principal, campaign_id: int) -> Progress:
    async with desk.db.reader() as session:
        return await send_progress.progress(session, principal, campaign_id)


async def finished(
    desk: Desk, principal: Principal, campaign_id: int, timeout: float = 20.0
) -> Progress:
    async def done() -> bool:
        return (await progress(desk, principal, campaign_id)).state == "finished"

    await eventually(done, timeout, interval=0.05, what=f"campaign {campaign_id} finished")
    return await progress(desk, principal, campaign_id)


def moment(desk: Desk) -> datetime:
    return desk.hub.clock.now()

"""A hub process killed with SIGKILL in the middle of a send, then started again: nobody gets
the campaign twice, and once it finishes every recipient is accounted for (the few in flight
at the kill as "unconfirmed", never silently sent or dropped)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.assembly import assemble
from hub.campaigns import drafting, send_control, send_progress, views
from hub.core.staff import add_agent
from hub.db.campaign_models import CampaignRecipient, RecipientState
from hub.db.models import Identity, Role
from tests.conftest import make_settings
from tests.hub.campaigns.audience import add_person, add_segment, marketer
from tests.hub.campaigns.conftest import CONTENT
from tests.support.poll import eventually
from tests.support.smtp import SmtpSink

ROOT = Path(__file__).resolve().parents[3]
RECIPIENTS = 80
CONCURRENCY = 4


def overrides(database_url: str, smtp_port: int) -> dict[str, Any]:
    return {
        "database.url": database_url,
        "database.auto_migrate": False,
        "capture.enabled": False,
        "channels.mail.smtp_port": smtp_port,
        "channels.mail.smtp_connections": CONCURRENCY,
        "channels.mail.inbound_smtp": "127.0.0.1:0",
        "campaigns.poll_seconds": 0.05,
        "campaigns.quiet_hours": False,
        "campaigns.lease_seconds": 2,
        "campaigns.throttles.email.per_second": 25,
        "campaigns.throttles.email.concurrency": CONCURRENCY,
    }


@asynccontextmanager
async def hub_process(values: dict[str, Any]) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.hub.campaigns.hub_process",
        json.dumps(values),
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def test_a_hub_killed_mid_send_and_restarted_sends_each_recipient_at_most_once(
    database_url: str, smtp_sink: SmtpSink
) -> None:
    values = overrides(database_url, smtp_sink.port)
    settings = make_settings(database_url, **values)
    async with assemble(settings, start_workers=False) as hub:
        now = hub.clock.now()
        for number in range(RECIPIENTS):
            await add_person(hub.db, now, f"Reader {number}", {"email": f"r{number}@example.com"})
        segment = await add_segment(hub.db, now)
        async with hub.db.writer() as session:
            agent = await add_agent(
                session, email="mia@example.com", name="Mia", role=Role.MARKETER, now=now
            )
            await session.commit()
            mia = marketer(agent.id)
        async with hub.db.writer() as session:
            draft = views.CampaignDraft("Crash sale", segment, CONTENT)
            campaign = (await drafting.create_campaign(session, mia, draft, now)).id
            await send_control.send_now(session, mia, hub.campaigns.context, campaign, now)
            await session.commit()

        async with hub_process(values) as first:
            await smtp_sink.wait_for(12, timeout=30)
            first.send_signal(signal.SIGKILL)
            await first.wait()
        at_kill = len(smtp_sink.received)
        assert at_kill < RECIPIENTS

        async with hub_process(values) as second:

            async def done() -> bool:
                async with hub.db.reader() as session:
                    view = await drafting.get_campaign(session, mia, campaign)
                return view.state == "finished"

            await eventually(done, 60, interval=0.1, what="the send finished after the restart")
            second.send_signal(signal.SIGTERM)

        async with hub.db.reader() as session:
            rows = (
                await session.execute(
                    select(CampaignRecipient.state, Identity.address)
                    .join(Identity, Identity.id == CampaignRecipient.identity_id)
                    .where(CampaignRecipient.campaign_id == campaign)
                )
            ).all()
            progress = await send_progress.progress(session, mia, campaign)

    received = Counter(mail.rcpt_tos[0] for mail in smtp_sink.received)
    assert max(received.values()) == 1, "somebody got the campaign twice"
    states = {address: state for state, address in rows}
    assert len(states) == RECIPIENTS
    assert set(states.values()) <= {RecipientState.SENT, RecipientState.UNCONFIRMED}
    sent = {address for address, state in states.items() if state == RecipientState.SENT}
    unconfirmed = set(states) - sent
    assert sent <= set(received)  # "sent" is only what the sink really got
    assert set(received) <= sent | unconfirmed
    # only what was in flight at the kill: the sender marks a channel's messages sending at
    # most four times its concurrency ahead of what the provider confirmed
    assert len(unconfirmed) <= 4 * CONCURRENCY
    assert len(received) > at_kill  # the restarted hub carried on
    assert progress.accounted and progress.state == "finished"

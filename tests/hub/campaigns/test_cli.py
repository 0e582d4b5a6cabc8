"""``relaydesk campaigns …`` run for real in a subprocess on a temporary SQLite database: send
with a progress bar until finished, show, export per-recipient CSV, and clear errors with a
non-zero exit."""

from __future__ import annotations

import asyncio
import csv
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hub.assembly import assemble
from hub.campaigns import drafting, views
from hub.core.staff import add_agent
from hub.db.models import Role
from hub.platform.migrate import upgrade
from tests.conftest import CONFIG, make_settings
from tests.hub.campaigns.audience import add_person, add_segment, marketer
from tests.hub.campaigns.conftest import CONTENT
from tests.support.smtp import SmtpSink

ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Done:
    code: int
    out: str
    err: str


async def relaydesk(env: dict[str, str], *args: str) -> Done:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return Done(process.returncode, out.decode(), err.decode())


@pytest.fixture
def cli_env(tmp_path: Path, smtp_sink: SmtpSink) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RELAYDESK_")}
    return env | {
        "PYTHONPATH": str(ROOT),
        "RELAYDESK_CONFIG": str(CONFIG),
        "RELAYDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "RELAYDESK_CAPTURE__ENABLED": "false",
        "RELAYDESK_CHANNELS__MAIL__INBOUND_SMTP": "127.0.0.1:0",
        "RELAYDESK_CHANNELS__MAIL__SMTP_PORT": str(smtp_sink.port),
        "RELAYDESK_CAMPAIGNS__QUIET_HOURS": "false",
        "RELAYDESK_CAMPAIGNS__POLL_SECONDS": "0.1",
    }


async def test_a_campaign_sent_shown_and_exported_from_the_command_line(
    cli_env: dict[str, str], smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    url = cli_env["RELAYDESK_DATABASE_URL"]
    upgrade(url)
    listed = await relaydesk(cli_env, "campaigns", "list")
    assert listed.code == 0 and "no campaigns yet" in listed.out
    settings = make_settings(url, **{"channels.mail.smtp_port": smtp_sink.port})
    async with assemble(settings, start_workers=False) as hub:
        now = hub.clock.now()
        for n in range(5):
            await add_person(hub.db, now, f"Reader {n}", {"email": f"r{n}@example.com"})
        segment = await add_segment(hub.db, now)
        async with hub.db.writer() as session:
            agent = await add_agent(
                session, email="mia@example.com", name="Mia", role=Role.MARKETER, now=now
            )
            draft = views.CampaignDraft("Spring", segment, CONTENT)
            campaign = await drafting.create_campaign(session, marketer(agent.id), draft, now)
            await session.commit()
    number = str(campaign.id)

    sent = await relaydesk(cli_env, "campaigns", "send", number, "--wait")
    assert sent.code == 0, sent.err
    assert f"campaign {number} is finished: 5 sent" in sent.out
    assert sorted(mail.rcpt_tos[0] for mail in smtp_sink.received) == [
        f"r{n}@example.com" for n in range(5)
    ]

    shown = await relaydesk(cli_env, "campaigns", "show", number)
    assert shown.code == 0 and "every recipient is accounted for" in shown.out
    assert "via mail: 5 sent" in shown.out

    target = tmp_path / "outcomes.csv"
    exported = await relaydesk(cli_env, "campaigns", "export", number, "-o", str(target))
    assert exported.code == 0, exported.err
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["state"] for row in rows] == ["sent"] * 5
    assert {row["address"] for row in rows} == {f"r{n}@example.com" for n in range(5)}
    messages = {mail.message["Message-ID"] for mail in smtp_sink.received}
    assert {row["message_ref"] for row in rows} == messages

    paused = await relaydesk(cli_env, "campaigns", "pause", number)
    assert paused.code == 1
    assert paused.err.strip() == "error: state: a finished campaign cannot be paused"
    missing = await relaydesk(cli_env, "campaigns", "show", "999")
    assert missing.code == 1 and "campaign 999 does not exist" in missing.err
    assert "Traceback" not in missing.err + paused.err

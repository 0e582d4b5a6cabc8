"""`relaydesk telegram set-webhook CHANNEL URL`: registers the webhook with a generated secret
token, which the running hub then requires."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import select

from hub.db.chat_models import ChannelSecret
from tests.channels.telegram.conftest import post_update, telegram_fixture
from tests.conftest import CONFIG, ROOT, make_settings
from tests.support.desk import MakeDesk
from tests.support.fake_telegram import TOKEN, FakeTelegram

URL = "https://support.example.com/webhooks/telegram/tg"


async def _cli(
    database_url: str, config: Path, *args: str, **settings: str
) -> tuple[int, str, str]:
    env = os.environ | {
        "RELAYDESK_DATABASE_URL": database_url,
        "RELAYDESK_DATABASE__AUTO_MIGRATE": "false",
        **settings,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub.cli",
        "--config",
        str(config),
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _config(tmp_path: Path, fake: FakeTelegram) -> Path:
    path = tmp_path / "relaydesk.toml"
    channel = (
        f'\n[channels.tg]\nkind = "telegram"\nbot_token = "{TOKEN}"\nbase_url = "{fake.base_url}"\n'
    )
    path.write_text(CONFIG.read_text(encoding="utf-8") + channel, encoding="utf-8")
    return path


async def test_set_webhook_registers_a_generated_secret_the_hub_then_requires(
    database_url: str, fake_telegram: FakeTelegram, make_desk: MakeDesk, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url,
        **{
            "channels.tg.kind": "telegram",
            "channels.tg.bot_token": TOKEN,
            "channels.tg.base_url": fake_telegram.base_url,
            "channels.tg.ack_template": "",
        },
    )
    desk = await make_desk(settings=settings)
    update = telegram_fixture("teloxide", "update_private_text_message.json")
    # No secret yet: nothing gets in, whatever the header says.
    assert (await post_update(desk, update, secret="anything")).status == 401

    status, out, err = await _cli(
        database_url, _config(tmp_path, fake_telegram), "telegram", "set-webhook", "tg", URL
    )
    assert status == 0, err
    assert "Telegram now sends updates for tg" in out
    [call] = fake_telegram.sent("setWebhook")
    assert call.params["url"] == URL
    secret = call.params["secret_token"]
    assert len(secret) >= 32
    async with desk.hub.db.reader() as session:
        stored = await session.scalar(select(ChannelSecret))
        assert stored is not None and (stored.channel, stored.value) == ("tg", secret)

    # The running hub takes up the new secret without a restart.
    assert (await post_update(desk, update, secret="anything")).status == 401
    assert (await post_update(desk, update, secret=secret)).status == 200
    assert len(await desk.inbound_messages()) == 1


async def test_set_webhook_explains_what_is_wrong(
    database_url: str, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    config = _config(tmp_path, fake_telegram)
    status, _, err = await _cli(database_url, config, "telegram", "set-webhook", "nope", URL)
    assert status == 1
    assert "no Telegram channel named 'nope'" in err and "tg" in err
    status, _, err = await _cli(database_url, config, "telegram", "set-webhook", "tg", "example")
    assert status == 1 and "absolute https:// address" in err

    fake_telegram.fail(400, methods=("setWebhook",))
    status, _, err = await _cli(database_url, config, "telegram", "set-webhook", "tg", URL)
    assert status == 1
    assert "Telegram did not accept the webhook" in err
    assert "Traceback" not in err


async def test_set_webhook_through_a_bot_api_on_a_refused_address_says_which(
    database_url: str, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    production = {"RELAYDESK_OUTGOING__ALLOW_PRIVATE_TARGETS": "false"}
    config = _config(tmp_path, fake_telegram)
    status, _, err = await _cli(
        database_url, config, "telegram", "set-webhook", "tg", URL, **production
    )
    assert status == 1
    assert "Telegram not reached: refused to connect: 127.0.0.1 is a loopback address" in err
    assert "Traceback" not in err
    assert fake_telegram.calls == []

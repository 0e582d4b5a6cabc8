"""Reading a real IMAP mailbox (Dovecot): IDLE, restarts without duplicates, UIDVALIDITY
changes, reconnecting with the error shown to admins, and a hub killed between fetch and
commit losing nothing and duplicating nothing."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from hub.db.email_models import EmailMailbox
from hub.db.models import Message, Role
from hub.email.imap import BATCH
from hub.platform.migrate import upgrade
from tests.conftest import ROOT, auth
from tests.hub.email.conftest import mail, mail_settings
from tests.support.desk import Desk, MakeDesk
from tests.support.dovecot import Dovecot, dovecot_root
from tests.support.poll import eventually
from tests.support.ports import free_port
from tests.support.smtp import SmtpSink


@pytest.fixture
async def dovecot(tmp_path: Path) -> AsyncIterator[Dovecot]:
    server = Dovecot(dovecot_root(tmp_path))
    yield server
    await server.stop()
    if not server.root.is_relative_to(tmp_path):
        shutil.rmtree(server.root, ignore_errors=True)


def imap_overrides(server: Dovecot, **extra: Any) -> dict[str, Any]:
    values = {
        "channels.mail.inbound_smtp": "",
        "channels.sales.inbound_smtp": "",
        "channels.mail.imap.host": "127.0.0.1",
        "channels.mail.imap.port": server.port,
        "channels.mail.imap.username": server.user,
        "channels.mail.imap.password": server.password,
        "channels.mail.imap.use_tls": False,
        "channels.mail.imap.max_backoff_seconds": 0.5,
        "channels.mail.imap.timeout_seconds": 5,
    }
    values.update(extra)
    return values


async def start_hub(
    make_desk: MakeDesk, database_url: str, sink: SmtpSink, server: Dovecot, **extra: Any
) -> Desk:
    return await make_desk(
        settings=mail_settings(database_url, sink, **imap_overrides(server, **extra))
    )


async def wait_for_messages(hub: Desk, count: int) -> None:
    async def arrived() -> bool:
        return await hub.count(Message, Message.direction == "inbound") >= count

    await eventually(arrived, 20, what=f"{count} inbound messages")


async def test_idle_imports_mail_as_it_arrives_and_restarts_import_nothing_twice(
    make_desk: MakeDesk, database_url: str, smtp_sink: SmtpSink, dovecot: Dovecot
) -> None:
    dovecot.deliver(mail("First", "one", msgid="<imap1@example.com>"))
    dovecot.deliver(mail("Second", "two", msgid="<imap2@example.com>", sender="tom@example.com"))
    await dovecot.start()
    hub = await start_hub(make_desk, database_url, smtp_sink, dovecot)
    await wait_for_messages(hub, 2)
    _admin, token = await hub.agent("ada@example.com", role=Role.ADMIN)
    states = (await (await hub.client.get("/api/v1/email/mailboxes", headers=auth(token))).json())[
        "items"
    ]
    [imap] = [s for s in states if s["source"] == "imap"]
    assert (imap["state"], imap["detail"], imap["last_uid"]) == ("connected", "idle on INBOX", 2)
    dovecot.deliver(mail("Third", "three", msgid="<imap3@example.com>", sender="ann@example.com"))
    await wait_for_messages(hub, 3)  # pushed by IDLE
    await hub.client.close()

    again = await start_hub(make_desk, database_url, smtp_sink, dovecot)
    dovecot.deliver(mail("Fourth", "four", msgid="<imap4@example.com>", sender="bo@example.com"))
    await wait_for_messages(again, 4)
    async with again.hub.db.writer() as session:  # the server's mailbox was rebuilt
        await session.execute(update(EmailMailbox).values(uidvalidity=1))
        await session.commit()
    await again.client.close()

    third = await start_hub(make_desk, database_url, smtp_sink, dovecot)

    async def reread() -> bool:
        async with third.hub.db.reader() as session:
            row = await session.get(EmailMailbox, 1)
            return row is not None and row.uidvalidity != 1 and row.last_uid == 4

    await eventually(reread, 20, what="mailbox read again after UIDVALIDITY change")
    assert [m.text for m in await third.inbound_messages()] == ["one", "two", "three", "four"]


async def test_unreachable_server_is_shown_then_recovers(
    make_desk: MakeDesk, database_url: str, smtp_sink: SmtpSink, dovecot: Dovecot
) -> None:
    hub = await start_hub(make_desk, database_url, smtp_sink, dovecot)
    _admin, token = await hub.agent("ada@example.com", role=Role.ADMIN)

    async def state() -> dict[str, Any]:
        listed = await hub.client.get("/api/v1/email/mailboxes", headers=auth(token))
        items = [i for i in (await listed.json())["items"] if i["source"] == "imap"]
        return items[0] if items else {"state": "none"}

    async def failing() -> bool:
        return (await state())["state"] == "reconnecting"

    await eventually(failing, 20, what="reconnecting state")
    assert (
        "Connection" in (await state())["last_error"] or "refused" in (await state())["last_error"]
    )
    dovecot.deliver(mail("Late", "after the outage", msgid="<late@example.com>"))
    await dovecot.start()
    await wait_for_messages(hub, 1)
    assert (await state())["state"] == "connected"


def _config(tmp_path: Path, server: Dovecot, database: Path) -> Path:
    config = (ROOT / "config" / "relaydesk.toml").read_text()
    config = config.replace('inbound_smtp = "127.0.0.1:2526"', 'inbound_smtp = ""')
    config = config.replace(
        'url = "sqlite+aiosqlite:///data/relaydesk.db"', f'url = "sqlite+aiosqlite:///{database}"'
    )
    config = config.replace("[capture]\nenabled = true", "[capture]\nenabled = false")
    config += (
        "\n[channels.mail.imap]\n"
        f'host = "127.0.0.1"\nport = {server.port}\nusername = "{server.user}"\n'
        f'password = "{server.password}"\nuse_tls = false\n'
    )
    path = tmp_path / "relaydesk.toml"
    path.write_text(config)
    return path


def _serve(config: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "--config", str(config), "serve", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _committed(database: Path) -> tuple[int, int]:
    with sqlite3.connect(database) as db:
        stored = db.execute("select count(*) from email_messages").fetchone()[0]
        row = db.execute("select last_uid from email_mailboxes where source='imap'").fetchone()
    return int(stored), int(row[0]) if row else 0


async def test_hub_killed_between_fetch_and_commit_loses_and_duplicates_nothing(
    tmp_path: Path, dovecot: Dovecot
) -> None:
    total = 40
    for number in range(total):
        dovecot.deliver(
            mail(
                f"Kill {number}",
                f"body {number}",
                msgid=f"<kill{number}@example.com>",
                sender=f"c{number}@example.com",
            )
        )
    await dovecot.start()
    database = tmp_path / "hub.db"
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{database}")
    config = _config(tmp_path, dovecot, database)

    hub = _serve(config, free_port())
    assert hub.stderr is not None
    fetched_lines = 0
    deadline = time.monotonic() + 60
    while fetched_lines < 5:  # let a few go through, then kill right after a fetch
        line = await asyncio.to_thread(hub.stderr.readline)
        assert line and time.monotonic() < deadline, "hub stopped before fetching"
        if b"imap mail: fetched uid" in line:
            fetched_lines += 1
    hub.send_signal(signal.SIGKILL)
    await asyncio.to_thread(hub.wait, 10)
    hub.stderr.close()
    stored, last_uid = _committed(database)
    assert last_uid < total  # it really died mid-import
    assert stored <= last_uid + BATCH  # at most one batch committed ahead of the position

    restarted = _serve(config, free_port())
    try:

        async def complete() -> bool:
            return _committed(database) == (total, total)

        await eventually(complete, 60, interval=0.2, what="all mail imported after restart")
    finally:
        restarted.send_signal(signal.SIGTERM)
        await asyncio.to_thread(restarted.wait, 20)
        if restarted.stderr is not None:
            restarted.stderr.close()
    with sqlite3.connect(database) as db:
        ids = [
            r[0] for r in db.execute("select external_id from messages where direction='inbound'")
        ]
    assert sorted(ids) == sorted(f"<kill{n}@example.com>" for n in range(total))


async def test_a_password_the_admin_replaces_is_used_at_the_next_poll(
    make_desk: MakeDesk, database_url: str, smtp_sink: SmtpSink, dovecot: Dovecot
) -> None:
    dovecot.deliver(mail("Waiting", "read me", msgid="<waiting@example.com>"))
    await dovecot.start()
    hub = await start_hub(
        make_desk,
        database_url,
        smtp_sink,
        dovecot,
        **{"channels.mail.imap.password": "not-the-password", "channels.mail.imap.idle": False},
    )
    _admin, token = await hub.agent("ada@example.com", role=Role.ADMIN)

    async def refused() -> bool:
        listed = await hub.client.get("/api/v1/email/mailboxes", headers=auth(token))
        items = [i for i in (await listed.json())["items"] if i["source"] == "imap"]
        return bool(items) and "login refused" in (items[0]["last_error"] or "")

    await eventually(refused, 20, what="the login refused, shown to admins")
    replaced = await hub.client.put(
        "/api/v1/admin/channels/mail/secrets/imap.password",
        json={"value": dovecot.password},
        headers=auth(token),
    )
    assert replaced.status == 200 and dovecot.password not in await replaced.text()
    await wait_for_messages(hub, 1)  # no restart: the poller logged in with the new password
    assert [m.text for m in await hub.inbound_messages()] == ["read me"]

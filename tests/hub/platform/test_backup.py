"""A backup taken while the hub keeps storing messages is the database as of one moment: restored
into a new hub, every message acknowledged before the backup began is there with its attachments
(mail parts and uploaded files, byte for byte), and no message is there without the ones before
it. A restore checks what it is given and will not overwrite a hub's data unasked."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.db.email_models import EmailAttachment
from hub.db.file_models import StoredFile
from hub.db.models import Message, Role
from hub.platform.backup import BackupError, create_backup
from hub.platform.migrate import upgrade
from hub.platform.restore import restore_backup
from tests.conftest import make_settings
from tests.hub.web.ui.conftest import inbound
from tests.support.agent_api import call
from tests.support.customer_data import mail_with_attachment, note_with_file
from tests.support.desk import Desk, MakeDesk

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40


async def _files(desk: Desk) -> dict[tuple[str, int, int], str]:
    """Every attachment the hub keeps: (store, message, position) -> sha256 of the bytes."""
    async with desk.db.reader() as session:
        parts = await session.execute(
            select(EmailAttachment.message_id, EmailAttachment.position, EmailAttachment.content)
        )
        stored = await session.execute(
            select(StoredFile.message_id, StoredFile.position, StoredFile.content)
        )
        return {
            (store, int(message_id or 0), int(position or 0)): hashlib.sha256(content).hexdigest()
            for store, rows in (("mail", parts.all()), ("upload", stored.all()))
            for message_id, position, content in rows
        }


async def _message_ids(desk: Desk) -> list[int]:
    async with desk.db.reader() as session:
        return list(await session.scalars(select(Message.id).order_by(Message.id)))


async def test_backup_while_writing_restores_every_message_and_attachment(
    desk: Desk, make_desk: MakeDesk, tmp_path: Path
) -> None:
    if not desk.db.is_sqlite:
        pytest.skip("the online backup copies SQLite; PostgreSQL is backed up with pg_dump")
    _, token = await desk.agent("alice@example.com", role=Role.ADMIN)
    for n in range(5):
        mail = await mail_with_attachment(
            desk,
            sender=f"c{n}@example.com",
            name=f"Customer {n}",
            text=f"order {n} arrived broken",
            filename=f"photo-{n}.pdf",
            content=PDF + bytes([n]),
        )
        await note_with_file(
            desk,
            token,
            mail.conversation_id,
            text=f"refund {n} approved",
            filename=f"receipt-{n}.txt",
            content=f"receipt {n}".encode(),
        )
    before = await _message_ids(desk)
    files_before = await _files(desk)
    assert len(files_before) == 10

    acknowledged: list[int] = []
    stop = asyncio.Event()

    async def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            result = await inbound(desk, f"still writing {n}", email=f"w{n}@example.com")
            acknowledged.append(result.message_id)
            n += 1

    def slow(_stage: str, _done: int, _total: int) -> None:
        time.sleep(0.01)  # each step of 8 pages lets the writers commit meanwhile

    url = desk.settings.database.url
    archive = tmp_path / "backup.zip"
    writer = asyncio.create_task(keep_writing())
    await asyncio.sleep(0.05)
    during_start = len(acknowledged)
    summary = await asyncio.to_thread(
        create_backup, url, archive, now=datetime.now(UTC), progress=slow, pages_per_step=8
    )
    during = len(acknowledged) - during_start
    stop.set()
    await writer
    assert during > 0, "writes went on during the backup"
    assert summary.counts["stored_files"] == 5 and summary.counts["email_attachments"] == 5

    restored_url = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'restored.db'}"
    restore_backup(archive, restored_url)
    new = await make_desk(settings=make_settings(restored_url))

    ids = await _message_ids(new)
    assert set(before) <= set(ids)
    assert set(acknowledged[:during_start]) <= set(ids)
    # one moment: the restored messages are exactly those of the source up to the last one kept
    assert ids == [i for i in await _message_ids(desk) if i <= ids[-1]]
    assert await _files(new) == files_before
    # the restored hub serves them: the same token, the same attachment bytes
    note = max(m for (store, m, _) in files_before if store == "upload")
    status, messages = await call(
        new.client,
        "GET",
        f"/api/v1/conversations/{(await new.message(note)).conversation_id}/messages",
        token,
    )
    assert status == 200, messages
    download = await new.client.get(
        f"/api/v1/messages/{note}/attachments/0", headers={"Authorization": f"Bearer {token}"}
    )
    assert download.status == 200 and await download.read() == b"receipt 4"


async def test_restore_refuses_a_hub_with_data_and_files_that_are_not_backups(
    desk: Desk, tmp_path: Path
) -> None:
    if not desk.db.is_sqlite:
        pytest.skip("SQLite only")
    await inbound(desk, "hello")
    url = desk.settings.database.url
    archive = tmp_path / "b.zip"
    create_backup(url, archive, now=datetime.now(UTC))

    with pytest.raises(BackupError, match="already holds data; stop its hub and pass --force"):
        restore_backup(archive, url)
    stray = tmp_path / "notes.zip"
    stray.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip
    with pytest.raises(BackupError, match="is not a Relaydesk backup"):
        restore_backup(stray, f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(BackupError, match="pg_restore"):
        restore_backup(archive, "postgresql+asyncpg://postgres@127.0.0.1/relaydesk")
    with pytest.raises(BackupError, match="pg_dump"):
        create_backup("postgresql+asyncpg://postgres@127.0.0.1/x", archive, now=datetime.now(UTC))


def test_a_backup_from_an_older_schema_is_migrated_on_restore(tmp_path: Path) -> None:
    old = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    upgrade(old, "0019_audience")  # a hub from before the audit log and erasures
    archive = tmp_path / "old.zip"
    made = create_backup(old, archive, now=datetime.now(UTC))
    assert "0019_audience" in made.schema and "0023_privacy" not in made.schema

    done = restore_backup(archive, f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    assert done.schema_before == made.schema
    assert "0023_privacy" in done.schema_after and "0019_audience" not in done.schema_after
    with closing(sqlite3.connect(tmp_path / "new.db")) as restored:
        tables = {row[0] for row in restored.execute("SELECT name FROM sqlite_master")}
    assert {"admin_changes", "customer_erasures"} <= tables

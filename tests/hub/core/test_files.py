"""Stored files (hub/files.py): kept with a clean name, a checked type and a digest, refused over
the cap without a trace, attached to a message after its listed attachments, at most once."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hub.config.settings import ConfigError, load_settings
from hub.core.files import (
    FileRefused,
    FileTooLarge,
    attach_files,
    file_for,
    files_of,
    purge_unattached,
    safe_filename,
    sniff_content_type,
    store_file,
)
from hub.core.staff import add_agent
from hub.db.file_models import StoredFile
from hub.db.models import Message, Role
from hub.platform.clock import ManualClock, SystemClock
from tests.conftest import CONFIG
from tests.support.desk import Desk
from tests.support.messages import inbound


@pytest.fixture
def desk_clock() -> ManualClock:
    """These stories drive the clock."""
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def _message(desk: Desk) -> int:
    [result] = await desk.ingest(inbound("files-1", text="Here is my screenshot"))
    async with desk.db.reader() as session:
        message_id = await session.scalar(
            select(Message.id).where(Message.conversation_id == result.conversation_id)
        )
    assert message_id is not None
    return message_id


async def _agents(desk: Desk) -> tuple[int, int]:
    async with desk.db.writer() as session:
        now = SystemClock().now()
        alice = await add_agent(
            session, email="alice@example.com", name="Alice", role=Role.AGENT, now=now
        )
        bob = await add_agent(
            session, email="bob@example.com", name="Bob", role=Role.AGENT, now=now
        )
        await session.commit()
        return alice.id, bob.id


def test_filenames_lose_paths_and_control_characters() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\x\\report.pdf") == "report.pdf"
    assert safe_filename('a"b<c>\r\n.txt') == "a_b_c_.txt"
    assert safe_filename("...") == "file"
    long = safe_filename("x" * 400 + ".pdf")
    assert len(long) == 255 and long.endswith(".pdf")


def test_content_type_trusts_the_bytes_first() -> None:
    assert sniff_content_type("a.txt", "text/html", PNG) == "image/png"
    assert sniff_content_type("notes.txt", "Text/Plain; charset=utf-8", b"hi") == "text/plain"
    assert sniff_content_type("notes.txt", "not a type", b"hi") == "text/plain"
    assert sniff_content_type("blob", "", b"\x00\x01") == "application/octet-stream"


async def test_store_keeps_bytes_digest_and_clean_metadata(desk: Desk) -> None:
    alice, _ = await _agents(desk)
    async with desk.db.writer() as session:
        row = await store_file(
            session,
            filename="../shot.png",
            content_type="application/octet-stream",
            content=PNG,
            now=desk.clock.now(),
            uploaded_by=alice,
        )
        await session.commit()
        file_id = row.id
    async with desk.db.reader() as session:
        kept = await session.get(StoredFile, file_id)
    assert kept is not None
    assert (kept.filename, kept.content_type, kept.size) == ("shot.png", "image/png", len(PNG))
    assert kept.sha256 == hashlib.sha256(PNG).hexdigest() and kept.content == PNG
    assert kept.message_id is None and kept.position is None and kept.uploaded_by == alice


async def test_over_the_cap_is_refused_and_nothing_is_stored(desk: Desk) -> None:
    async with desk.db.writer() as session:
        with pytest.raises(FileTooLarge) as refused:
            await store_file(
                session,
                filename="big.bin",
                content_type="application/octet-stream",
                content=b"x" * 2049,
                now=desk.clock.now(),
                max_bytes=2048,
            )
        await session.commit()
    assert refused.value.limit == 2048 and "2048" in str(refused.value)
    assert await desk.count(StoredFile) == 0


async def test_attach_lists_files_after_existing_attachments(desk: Desk) -> None:
    alice, _ = await _agents(desk)
    message_id = await _message(desk)
    async with desk.db.writer() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        message.attachments = [{"filename": "from-chat.jpg", "content_type": "image/jpeg"}]
        first = await store_file(
            session,
            filename="a.txt",
            content_type="text/plain",
            content=b"A",
            now=desk.clock.now(),
            uploaded_by=alice,
        )
        second = await store_file(
            session,
            filename="b.png",
            content_type="image/png",
            content=PNG,
            now=desk.clock.now(),
            uploaded_by=alice,
        )
        attached = await attach_files(session, message_id, [second.id, first.id], agent_id=alice)
        await session.commit()
    assert [(f.filename, f.position) for f in attached] == [("b.png", 1), ("a.txt", 2)]
    async with desk.db.reader() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        assert [a["filename"] for a in message.attachments] == ["from-chat.jpg", "b.png", "a.txt"]
        assert message.attachments[2] == {
            "filename": "a.txt",
            "content_type": "text/plain",
            "size": 1,
            "file_id": first.id,
        }
        found = await file_for(session, message_id, 2)
        assert found is not None and found.content == b"A"
        assert await file_for(session, message_id, 0) is None
        assert [f.filename for f in await files_of(session, message_id)] == ["b.png", "a.txt"]


async def test_foreign_unknown_and_reused_files_are_refused(desk: Desk) -> None:
    alice, bob = await _agents(desk)
    message_id = await _message(desk)
    async with desk.db.writer() as session:
        mine = await store_file(
            session,
            filename="a.txt",
            content_type="text/plain",
            content=b"A",
            now=desk.clock.now(),
            uploaded_by=alice,
        )
        await session.commit()
        file_id = mine.id
    for agent, ident, reason in ((bob, file_id, "unknown"), (alice, 999_999, "unknown")):
        async with desk.db.writer() as session:
            with pytest.raises(FileRefused) as refused:
                await attach_files(session, message_id, [ident], agent_id=agent)
            assert refused.value.reason == reason
    async with desk.db.writer() as session:
        await attach_files(session, message_id, [file_id], agent_id=alice)
        await session.commit()
    async with desk.db.writer() as session:
        with pytest.raises(FileRefused) as refused:
            await attach_files(session, message_id, [file_id], agent_id=alice)
        assert refused.value.reason == "attached"
    async with desk.db.reader() as session:
        listed = await session.scalar(select(Message.attachments).where(Message.id == message_id))
        assert listed is not None and len(listed) == 1
        assert await session.scalar(select(func.count()).select_from(StoredFile)) == 1


async def test_store_with_a_message_takes_the_next_position(desk: Desk) -> None:
    message_id = await _message(desk)
    async with desk.db.writer() as session:
        rows = [
            await store_file(
                session,
                filename=f"{n}.txt",
                content_type="text/plain",
                content=b"x",
                now=desk.clock.now(),
                message_id=message_id,
            )
            for n in range(2)
        ]
        await session.commit()
    assert [r.position for r in rows] == [0, 1]


async def test_stale_unattached_uploads_are_purged(desk: Desk) -> None:
    message_id = await _message(desk)
    now = desk.clock.now()
    async with desk.db.writer() as session:
        for name, age_hours, attach in (
            ("stale", 30, False),
            ("fresh", 1, False),
            ("kept", 30, True),
        ):
            row = await store_file(
                session,
                filename=f"{name}.txt",
                content_type="text/plain",
                content=b"x",
                now=now - timedelta(hours=age_hours),
            )
            if attach:
                await attach_files(session, message_id, [row.id], agent_id=None)
        await session.commit()
    async with desk.db.writer() as session:
        assert await purge_unattached(session, before=now - timedelta(hours=24)) == 1
        await session.commit()
    async with desk.db.reader() as session:
        names = set((await session.scalars(select(StoredFile.filename))).all())
    assert names == {"fresh.txt", "kept.txt"}


@pytest.mark.parametrize(
    ("raw", "expected"), [("10 MB", 10 * 1024 * 1024), ("512KB", 512 * 1024), ("4096", 4096)]
)
def test_the_cap_is_configured_in_bytes_or_units(raw: str, expected: int) -> None:
    settings = load_settings(CONFIG, environ={"RELAYDESK_ATTACHMENTS__MAX_BYTES": raw})
    assert settings.attachments.max_bytes == expected


@pytest.mark.parametrize("raw", ["ten megabytes", "10 XB", "0", "5 GB"])
def test_a_wrong_cap_names_the_key(raw: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(CONFIG, environ={"RELAYDESK_ATTACHMENTS__MAX_BYTES": raw})
    assert "attachments.max_bytes" in str(refused.value)
    assert "RELAYDESK_ATTACHMENTS__MAX_BYTES" in str(refused.value)

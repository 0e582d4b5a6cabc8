"""Other processes' commits wake this one through PostgreSQL's NOTIFY (polling is the fallback):
with the database URL the deploy guide gives for a transaction-mode pooler, with a LISTEN address
of its own, and without a warning flood while LISTEN cannot be had."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from hub.config.settings import Settings
from hub.platform.notify import EVENTS_CHANNEL, Listener
from tests.support.desk import MakeDesk
from tests.support.poll import eventually


def _postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("NOTIFY is PostgreSQL's: on SQLite the one process wakes itself")


async def _notify_from_another_process(database_url: str) -> None:
    """What another hub's commit does: the event trigger's NOTIFY (migration 0030)."""
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(text("NOTIFY relaydesk_events, '1'"))
    await engine.dispose()


async def test_the_pooler_ready_database_url_still_hears_other_processes(
    make_desk: MakeDesk, database_url: str
) -> None:
    _postgresql_only(database_url)
    # docs/deploy.md: "add ?prepared_statement_cache_size=0 to database.url" behind PgBouncer
    desk = await make_desk(**{"database.url": f"{database_url}?prepared_statement_cache_size=0"})
    listener = desk.hub.events.listener
    assert listener is not None

    async def listening() -> bool:
        return listener.listening

    await eventually(listening, what="LISTEN up")
    heard = listener.notifications
    await _notify_from_another_process(database_url)

    async def woken() -> bool:
        return listener.notifications > heard

    await eventually(woken, what="another process's commit heard")


async def test_listen_goes_to_its_own_address_and_a_failure_is_logged_once(
    make_desk: MakeDesk, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _postgresql_only(database_url)
    nowhere = "postgresql+asyncpg://postgres@127.0.0.1:1/relaydesk"  # nothing listens on port 1
    desk = await make_desk(memory=("chat",), **{"database.listen_url": nowhere})
    listener = desk.hub.events.listener
    assert listener is not None and "127.0.0.1:1/" in listener.dsn

    with caplog.at_level(logging.WARNING, logger="hub.platform.notify"):
        for _ in range(20):  # the poller calls it every 0.2 s
            await listener.ensure()
    assert not listener.listening
    warned = [r.getMessage() for r in caplog.records if "LISTEN" in r.getMessage()]
    assert len(warned) == 1, warned
    # the hub itself runs on database.url: a customer's message still goes in
    sent = await desk.customer_writes("Hello, is anyone there?")
    assert sent.conversation_id


def test_a_listen_address_for_another_store_is_refused() -> None:
    with pytest.raises(ValueError, match="listen_url"):
        Settings.model_validate({"database": {"listen_url": "sqlite+aiosqlite:///x.db"}})


async def test_pollers_asking_at_once_make_one_attempt_and_log_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``ensure`` may be called from several tasks (today only the event bus's worker calls
    it): one connection is tried at a time (a server that hangs up on every connection counts
    them), and one warning is logged."""
    attempts = 0

    async def hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal attempts
        attempts += 1
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    listener = Listener(f"postgresql://postgres@127.0.0.1:{port}/relaydesk", EVENTS_CHANNEL, print)
    try:
        with caplog.at_level(logging.WARNING, logger="hub.platform.notify"):
            await asyncio.gather(*(listener.ensure() for _ in range(5)))
    finally:
        server.close()
        await server.wait_closed()
    assert attempts == 1
    assert not listener.listening
    warned = [r.getMessage() for r in caplog.records if "LISTEN" in r.getMessage()]
    assert len(warned) == 1 and "unavailable (polling only until it is back)" in warned[0]

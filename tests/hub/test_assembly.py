"""The assembly builds one hub from settings for serve, the CLI, the tests and the benchmarks:
channel instances a caller passes replace configured ones by name or join them, a hub built
without workers starts nothing, and a running hub stops everything it started."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, select

from channels.registry import build_channel
from hub.assembly import assemble
from hub.core.staff import ensure_teams
from hub.db.models import Team
from tests.conftest import make_settings
from tests.support.overlap import at_once


async def test_given_channels_replace_configured_ones_or_join_them(database_url: str) -> None:
    settings = make_settings(database_url)
    api = build_channel("api", settings.channels["api"])
    extra = build_channel("api-2", settings.channels["api"])
    async with assemble(
        settings, channels={"api": api, "api-2": extra}, start_workers=False
    ) as hub:
        assert list(hub.channels) == [*settings.channels, "api-2"]
        assert hub.channels["api"] is api
        assert hub.channels["api-2"] is extra
        assert hub.dispatcher.channels is hub.channels


async def test_a_hub_without_workers_starts_nothing(database_url: str) -> None:
    async with assemble(make_settings(database_url), start_workers=False) as hub:
        assert hub.email.receivers == []
        assert hub.supervisor.workers == ()
        result = await hub.email.inbox.deliver(
            "mail", b"From: jane@example.com\r\nMessage-ID: <m1@example.com>\r\n\r\nHello\r\n"
        )
        assert not result.duplicate


async def test_a_running_hub_listens_for_mail_until_it_stops(database_url: str) -> None:
    async with assemble(make_settings(database_url)) as hub:
        receiver = hub.email.receiver_for("mail")
        assert receiver is not None and receiver.listening
    assert not receiver.listening


async def test_hubs_starting_together_each_make_sure_of_the_configured_teams(
    database_url: str,
) -> None:
    """Three processes started at once on a fresh database (the deploy example's): each adds
    the teams routing names, none fails its start on another's insert, and each team is there
    once."""
    settings = make_settings(database_url)
    async with assemble(settings, start_workers=False) as hub:
        async with hub.db.writer() as session:
            await session.execute(delete(Team))  # a database no hub has started on
            await session.commit()
        wanted = {"billing", "support", "night-shift"}

        async def start(hold: asyncio.Event | None = None) -> None:
            async with hub.db.writer() as session:
                await ensure_teams(session, wanted)
                if hold is not None:
                    await hold.wait()
                await session.commit()

        await at_once(start, sqlite=hub.db.is_sqlite)
        async with hub.db.reader() as session:
            teams = (await session.execute(select(Team.slug, Team.name))).all()
    assert sorted(teams) == [
        ("billing", "Billing"),
        ("night-shift", "Night Shift"),
        ("support", "Support"),
    ]

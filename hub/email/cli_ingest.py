"""``relaydesk ingest email FILE...``: import raw RFC 822 files through the same path as mail
received by SMTP or IMAP. One result per file, reported through ``emit`` as it is stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from channels.base import Channel
from channels.registry import build_channel
from hub.config.settings import Settings
from hub.email.directory import email_channels
from hub.email.hooks import EMAIL_INGEST
from hub.email.inbox import EmailInbox
from hub.inbound.ingest import Ingestor
from hub.inbound.pipeline import Pipeline
from hub.outbound.templates import FollowupRenderer
from hub.platform.clock import SystemClock
from hub.platform.database import open_database
from hub.platform.migrate import upgrade_async
from hub.routing.engine import RoutingEngine
from hub.routing.hooks import ingest_hooks


class NoSuchMailbox(LookupError):
    """The named channel is not an email channel; the message lists the ones there are."""


def pick_channel(settings: Settings, name: str | None) -> str:
    configs = email_channels(settings.channels)
    if name is None and configs:
        return next(iter(configs))
    if name is None or name not in configs:
        known = ", ".join(sorted(configs)) or "none configured"
        raise NoSuchMailbox(f"no email channel named {name!r} (email channels: {known})")
    return name


async def ingest_files(
    settings: Settings,
    paths: list[Path],
    channel: str | None,
    emit: Callable[[dict[str, Any]], None],
) -> int:
    """Store each file; returns how many could not be read or stored."""
    name = pick_channel(settings, channel)
    if settings.database.auto_migrate:
        await upgrade_async(settings.database.url)
    db = open_database(settings.database.url)
    clock = SystemClock()
    channels: dict[str, Channel] = {
        n: build_channel(n, c) for n, c in email_channels(settings.channels).items()
    }
    hooks = ingest_hooks(RoutingEngine(settings, clock), EMAIL_INGEST)
    pipeline = Pipeline(settings, FollowupRenderer(settings.templates_dir), clock, hooks)
    inbox = EmailInbox(db, channels, Ingestor(db, pipeline), clock)
    failures = 0
    try:
        for path in paths:
            try:
                raw = path.read_bytes()
            except OSError as exc:
                failures += 1
                emit({"file": str(path), "error": f"cannot read the file: {exc.strerror or exc}"})
                continue
            try:
                delivered = await inbox.deliver(name, raw)
            except Exception as exc:
                failures += 1
                emit({"file": str(path), "error": f"not stored: {exc}"})
                continue
            emit({"file": str(path), **delivered.json()})
    finally:
        await db.dispose()
    return failures

"""``relaydesk ingest email FILE...``: import raw RFC 822 files through the same path as mail
received by SMTP or IMAP. One result per file, reported through ``emit`` as it is stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.config.settings import Settings
from hub.email.directory import email_channels
from hub.email.inbox import EmailInbox


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
    inbox: EmailInbox, channel: str, paths: list[Path], emit: Callable[[dict[str, Any]], None]
) -> int:
    """Store each file under ``channel``; returns how many could not be read or stored."""
    failures = 0
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            failures += 1
            emit({"file": str(path), "error": f"cannot read the file: {exc.strerror or exc}"})
            continue
        try:
            delivered = await inbox.deliver(channel, raw)
        except Exception as exc:
            failures += 1
            emit({"file": str(path), "error": f"not stored: {exc}"})
            continue
        emit({"file": str(path), **delivered.json()})
    return failures

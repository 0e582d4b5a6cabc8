"""Registering bots (admins): each gets its own API token (stored as a SHA-256 digest, shown
once) and signing secret; changes are audited and apply to the next conversation at once."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.bots import schedule, texts
from hub.core.audit import record_change
from hub.db.bots_models import Bot

KINDS = ("faq", "webhook", "rasa")
EDITABLE = (
    "url",
    "channels",
    "teams",
    "hours",
    "enabled",
    "timeout_ms",
    "max_errors",
    "max_turns_without_progress",
    "handback_on_resolve",
)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def shown(bot: Bot) -> dict[str, Any]:
    found = {k: getattr(bot, k) for k in ("id", "name", "kind", *EDITABLE)}
    return {**found, "hours": bot.hours or "always"}


def _new_credentials() -> tuple[str, str]:
    return "rdb_" + secrets.token_urlsafe(32), secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Created:
    bot: Bot
    token: str
    secret: str


async def create(
    session: AsyncSession, actor_id: int | None, fields: dict[str, Any], now: datetime
) -> Created:
    if await session.scalar(select(Bot.id).where(Bot.name == fields["name"])) is not None:
        raise texts.name_taken(fields["name"])
    token, secret = _new_credentials()
    fields = {**fields, "hours": _stored_hours(fields.get("hours"))}
    bot = Bot(**fields, secret=secret, token_digest=digest(token), created_at=now)
    session.add(bot)
    await session.flush()
    await record_change(
        session, actor_id=actor_id, area="bots", action="create", target=bot.name,
        new=shown(bot), at=now,
    )  # fmt: skip
    return Created(bot, token, secret)


async def update(
    session: AsyncSession, actor_id: int, bot: Bot, changes: dict[str, Any], now: datetime
) -> Bot:
    old = shown(bot)
    for key, value in changes.items():
        if key in EDITABLE:
            setattr(bot, key, _stored_hours(value) if key == "hours" else value)
    await record_change(
        session, actor_id=actor_id, area="bots", action="update", target=bot.name,
        old=old, new=shown(bot), at=now,
    )  # fmt: skip
    return bot


async def by_token(session: AsyncSession, token: str) -> Bot | None:
    return await session.scalar(select(Bot).where(Bot.token_digest == digest(token)))


def _stored_hours(hours: str | None) -> str | None:
    return None if not hours or hours == "always" else hours


async def rotate(session: AsyncSession, actor_id: int, bot: Bot, now: datetime) -> Created:
    """A new token and signing secret (the old ones stop working at once), shown only now."""
    token, secret = _new_credentials()
    bot.token_digest, bot.secret = digest(token), secret
    await record_change(
        session, actor_id=actor_id, area="bots", action="rotate", target=bot.name,
        new={"rotated": ["token", "secret"]}, at=now,
    )  # fmt: skip
    return Created(bot, token, secret)


def problems(
    kind: str, fields: Mapping[str, Any], channels: Collection[str], calendars: Mapping[str, Any]
) -> dict[str, str]:
    """What is wrong with a bot's fields beyond their shapes, by field (empty: nothing)."""
    found: dict[str, str] = {}
    if kind != "faq" and "url" in fields and not fields["url"]:
        found["url"] = "a webhook or Rasa bot needs a URL"
    unknown = [c for c in fields.get("channels") or () if c not in channels]
    if unknown:
        found["channels"] = f"unknown channel {unknown[0]!r}"
    hours = schedule.hours_problem(fields.get("hours"), calendars)
    if hours:
        found["hours"] = hours
    return found

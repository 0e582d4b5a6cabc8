"""Which bot takes a new conversation, and when: a bot serves its channels and teams during its
hours (a calendar named under ``[calendars]``, or always). A conversation only closed bots
would have taken goes straight to people, with the reason ``outside_bot_hours``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from hub.config.routing import CalendarSettings
from hub.core.calendar import BusinessCalendar
from hub.db.bots_models import Bot

ALWAYS = "always"
OUTSIDE = "outside_bot_hours"


def serves(bot: Bot, channel: str, team: str) -> bool:
    return channel in bot.channels and (not bot.teams or team in bot.teams)


def is_open(bot: Bot, calendars: Mapping[str, CalendarSettings], at: datetime) -> bool:
    """Inside the bot's hours; a calendar that no longer exists counts as closed."""
    if not bot.hours or bot.hours == ALWAYS:
        return True
    if bot.hours not in calendars:
        return False
    return BusinessCalendar(calendars[bot.hours]).is_open(at)


@dataclass(frozen=True, slots=True)
class Pick:
    bot: Bot | None  # the bot that takes the conversation
    closed: Bot | None = None  # else the first bot that would have, were it inside its hours


def pick(
    bots: Iterable[Bot],
    channel: str,
    team: str,
    calendars: Mapping[str, CalendarSettings],
    at: datetime,
) -> Pick:
    closed: Bot | None = None
    for bot in bots:
        if not serves(bot, channel, team):
            continue
        if is_open(bot, calendars, at):
            return Pick(bot)
        closed = closed or bot
    return Pick(None, closed)


def hours_problem(hours: str | None, calendars: Mapping[str, CalendarSettings]) -> str | None:
    if hours is None or hours == ALWAYS or hours in calendars:
        return None
    names = ", ".join(sorted(calendars)) or "none defined"
    return f"unknown calendar {hours!r} (calendars: {names}; or {ALWAYS!r})"

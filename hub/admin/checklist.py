"""The first-run checklist on the admin console's start page: what a new hub still needs,
each item ticked off from what is stored (never from a flag someone sets), with the page that
does it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.admin import people_texts as texts
from hub.db.admin_models import AdminChange
from hub.db.models import Agent, Direction, Message


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    title: str
    how: str
    done: bool
    href: str
    detail: str


async def checklist(
    session: AsyncSession, channels: Collection[str], calendars: Collection[str]
) -> list[Item]:
    """``channels``: the configured channel names; ``calendars``: the configured calendars."""
    received: list[str] = []
    if channels:
        rows = await session.execute(
            select(Message.channel)
            .where(Message.direction == Direction.INBOUND, Message.channel.in_(list(channels)))
            .group_by(Message.channel)
        )
        received = sorted(row[0] for row in rows)
    active = int(
        await session.scalar(select(func.count()).select_from(Agent).where(Agent.active)) or 0
    )
    hours_changed = bool(await session.scalar(select(exists().where(AdminChange.area == "hours"))))
    channel_detail = (
        "Messages received on " + ", ".join(received)
        if received
        else f"{len(channels)} configured, no customer message yet"
        if channels
        else "No channel configured"
    )
    hours_detail = (
        "Calendars: " + ", ".join(sorted(calendars))
        if calendars
        else "Business hours set"
        if hours_changed
        else "No business hours yet: SLA clocks run round the clock"
    )
    return [
        Item(
            "channel",
            texts.CHECK_CHANNEL,
            texts.CHECK_CHANNEL_HOW,
            bool(received),
            "/ui/admin/channels",
            channel_detail,
        ),
        Item(
            "agents",
            texts.CHECK_AGENTS,
            texts.CHECK_AGENTS_HOW,
            active > 1,
            "/ui/admin/agents",
            f"{active} active agent{'s' if active != 1 else ''}",
        ),
        Item(
            "hours",
            texts.CHECK_HOURS,
            texts.CHECK_HOURS_HOW,
            bool(calendars) or hours_changed,
            "/ui/admin/sla",
            hours_detail,
        ),
    ]

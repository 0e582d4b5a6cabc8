"""An agent's signed-in browsers: the list their account page shows (device, address, when
opened, last seen) and signing one out or all of them ("sign out everywhere"). Admins may do
the same for any agent (audited)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.audit import record_change
from hub.db.inbox_models import UiSession
from hub.db.models import Agent

_BROWSERS = (
    ("Edge", re.compile(r"\bEdg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:Chrome|Chromium|CriOS)/")),
    ("Safari", re.compile(r"\bSafari/")),
    ("curl", re.compile(r"^curl/")),
)
_SYSTEMS = (
    ("iPhone", re.compile(r"iPhone")),
    ("iPad", re.compile(r"iPad")),
    ("Android", re.compile(r"Android")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux|X11")),
)


def device_of(user_agent: str) -> str:
    """A short name for the browser a session was opened from: "Firefox on Windows"."""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(user_agent)), "")
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


@dataclass(frozen=True, slots=True)
class SessionView:
    id: int
    device: str
    user_agent: str
    client_address: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


async def sessions_of(
    session: AsyncSession, agent_id: int, now: datetime, current: int | None = None
) -> list[SessionView]:
    """The agent's live sessions, the most recently seen first."""
    rows = await session.scalars(
        select(UiSession)
        .where(UiSession.agent_id == agent_id, UiSession.expires_at > now)
        .order_by(UiSession.last_seen_at.desc(), UiSession.id.desc())
    )
    return [
        SessionView(
            id=row.id,
            device=device_of(row.user_agent),
            user_agent=row.user_agent,
            client_address=row.client_address,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            current=row.id == current,
        )
        for row in rows
    ]


async def end_session(session: AsyncSession, agent_id: int, session_id: int) -> bool:
    """Sign one of the agent's own sessions out; False when it is not theirs (or gone)."""
    ended = await session.execute(
        delete(UiSession).where(UiSession.id == session_id, UiSession.agent_id == agent_id)
    )
    return bool(getattr(ended, "rowcount", 0))


async def end_all_sessions(
    session: AsyncSession, agent: Agent, *, actor_id: int | None, now: datetime
) -> int:
    """Sign ``agent`` out everywhere; how many sessions ended. When someone else (an admin)
    does it, the audit log says so."""
    ended = await session.execute(delete(UiSession).where(UiSession.agent_id == agent.id))
    count = int(getattr(ended, "rowcount", 0) or 0)
    if actor_id is not None and actor_id != agent.id:
        await record_change(
            session,
            actor_id=actor_id,
            area="agents",
            action="sign_out_everywhere",
            target=agent.email,
            old=f"{count} sessions",
            new="0 sessions",
            at=now,
        )
    return count

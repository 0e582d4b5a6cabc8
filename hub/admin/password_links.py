"""One-time password links: an invitation's (the first password) and a reset's. The link
carries a random secret; only its SHA-256 is stored. A link works once, until it expires, for
an active agent; issuing a newer one for the same agent ends the older ones. Using it sets the
password and signs the agent out everywhere else."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.admin import people_texts as texts
from hub.core.staff import StaffError, set_password, token_digest
from hub.db.models import Agent
from hub.db.staff_models import PasswordLink

INVITE_DAYS = 7
RESET_HOURS = 24
PATH = "/ui/password/"


@dataclass(frozen=True, slots=True)
class Issued:
    url: str
    expires_at: datetime


def lifetime(purpose: str) -> timedelta:
    return timedelta(days=INVITE_DAYS) if purpose == "invite" else timedelta(hours=RESET_HOURS)


async def end_links(session: AsyncSession, agent_id: int, now: datetime) -> None:
    """Every unused link of the agent stops working."""
    await session.execute(
        update(PasswordLink)
        .where(PasswordLink.agent_id == agent_id, PasswordLink.used_at.is_(None))
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )


async def issue(
    session: AsyncSession,
    agent: Agent,
    purpose: str,
    *,
    actor_id: int | None,
    now: datetime,
    public_url: str,
) -> Issued:
    await end_links(session, agent.id, now)
    secret = secrets.token_urlsafe(32)
    expires = now + lifetime(purpose)
    session.add(
        PasswordLink(
            agent_id=agent.id,
            token_hash=token_digest(secret),
            purpose=purpose,
            created_by=actor_id,
            created_at=now,
            expires_at=expires,
        )
    )
    return Issued(public_url.rstrip("/") + PATH + secret, expires)


async def pending_purposes(session: AsyncSession, now: datetime) -> dict[int, str]:
    """Agent id -> the purpose of their link that still works (invite or reset)."""
    rows = await session.execute(
        select(PasswordLink.agent_id, PasswordLink.purpose).where(
            PasswordLink.used_at.is_(None), PasswordLink.expires_at > now
        )
    )
    return {agent_id: purpose for agent_id, purpose in rows}


async def valid_link(
    session: AsyncSession, secret: str, now: datetime
) -> tuple[PasswordLink, Agent] | None:
    if not secret or len(secret) > 100:
        return None
    row = (
        await session.execute(
            select(PasswordLink, Agent)
            .join(Agent, Agent.id == PasswordLink.agent_id)
            .where(
                PasswordLink.token_hash == token_digest(secret),
                PasswordLink.used_at.is_(None),
                PasswordLink.expires_at > now,
                Agent.active.is_(True),
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


async def use_link(
    session: AsyncSession, secret: str, password: str, confirm: str, now: datetime
) -> Agent:
    """Set the agent's password through the link (raises ApiError naming the field)."""
    found = await valid_link(session, secret, now)
    if found is None:
        raise texts.invalid("link", texts.LINK_BAD)
    link, agent = found
    if password != confirm:
        raise texts.invalid("confirm", texts.PASSWORD_MISMATCH)
    try:
        await set_password(session, agent, password)
    except StaffError as exc:
        raise texts.invalid("password", str(exc)) from None
    claimed = await session.execute(
        update(PasswordLink)
        .where(PasswordLink.id == link.id, PasswordLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(claimed, "rowcount", 0):  # used by a concurrent request
        raise texts.invalid("link", texts.LINK_BAD)
    return agent

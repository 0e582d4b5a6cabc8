"""Agents, teams and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.validation import normalize_email
from hub.db.inbox_models import UiSession
from hub.db.models import Agent, AgentTeam, ApiToken, Presence, Role, Team

_hasher = PasswordHasher()
TOKEN_PREFIX = "rdk_"
MIN_PASSWORD = 8


class StaffError(ValueError):
    """A request about agents or teams that cannot be done; the message says why."""


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"password must be at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except VerificationError:
        return False


async def team_id_for(session: AsyncSession, slug: str) -> int | None:
    return await session.scalar(select(Team.id).where(Team.slug == slug))


async def ensure_team(session: AsyncSession, slug: str, name: str | None = None) -> Team:
    team = await session.scalar(select(Team).where(Team.slug == slug))
    if team is None:
        team = Team(slug=slug, name=name or slug.replace("-", " ").title())
        session.add(team)
        await session.flush()
    return team


async def add_agent(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    role: Role,
    now: datetime,
    password: str | None = None,
    teams: tuple[str, ...] = (),
    capacity: int = 10,
    presence: Presence = Presence.OFFLINE,
) -> Agent:
    address = normalize_email(email)
    if address is None:
        raise StaffError(f"{email!r} is not a valid email address")
    if await session.scalar(select(Agent.id).where(Agent.email == address)) is not None:
        raise StaffError(f"an agent with email {address} already exists")
    if capacity < 0:
        raise StaffError("capacity must not be negative")
    agent = Agent(
        email=address,
        name=name.strip() or address,
        role=role,
        password_hash=hash_password(password) if password else None,
        capacity=capacity,
        presence=presence,
        skills=[],
        created_at=now,
    )
    session.add(agent)
    await session.flush()
    for slug in teams:
        team = await ensure_team(session, slug)
        session.add(AgentTeam(agent_id=agent.id, team_id=team.id))
    return agent


async def set_password(session: AsyncSession, agent: Agent, password: str) -> None:
    """Give ``agent`` a new password and sign them out everywhere (raises ``StaffError``)."""
    agent.password_hash = hash_password(password)
    await session.execute(delete(UiSession).where(UiSession.agent_id == agent.id))


async def agent_by_email(session: AsyncSession, email: str) -> Agent | None:
    address = normalize_email(email) or email.strip().lower()
    return await session.scalar(select(Agent).where(Agent.email == address))


async def create_token(session: AsyncSession, agent: Agent, now: datetime, label: str = "") -> str:
    token = new_token()
    session.add(
        ApiToken(agent_id=agent.id, token_hash=token_digest(token), label=label, created_at=now)
    )
    return token

"""Agents, teams and API tokens."""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.validation import normalize_email
from hub.core.passwords import password_problem
from hub.db.inbox_models import UiSession
from hub.db.models import Agent, AgentTeam, ApiToken, Presence, Role, Team
from hub.db.upsert import insert_into

# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane) rather than argon2-cffi's
# default 64 MiB: each hash holds its memory cost while it runs, and 64 MiB alone took a hub
# process from ~140 MB to ~205 MB of peak memory (bench/memory.py). Hashes are computed one at
# a time per process, so parallel sign-ins never add up; older, costlier hashes still verify
# and are replaced at the next sign-in (``rehashed``).
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_one_at_a_time = threading.Lock()
TOKEN_PREFIX = "rdk_"


class StaffError(ValueError):
    """A request about agents or teams that cannot be done; the message says why."""


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str, *, email: str = "", name: str = "") -> str:
    """The argon2 hash of ``password`` if the password policy allows it (else ``StaffError``
    naming the rule; ``email`` and ``name`` are the account's, which it may not resemble)."""
    problem = password_problem(password, email=email, name=name)
    if problem is not None:
        raise StaffError(problem)
    with _one_at_a_time:
        return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        with _one_at_a_time:
            return _hasher.verify(password_hash, password)
    except VerificationError:
        return False


def rehashed(password_hash: str, password: str) -> str | None:
    """A new hash of a verified ``password`` if its stored hash uses other parameters."""
    if not _hasher.check_needs_rehash(password_hash):
        return None
    with _one_at_a_time:
        return _hasher.hash(password)


async def team_id_for(session: AsyncSession, slug: str) -> int | None:
    return await session.scalar(select(Team.id).where(Team.slug == slug))


async def ensure_teams(session: AsyncSession, slugs: set[str]) -> None:
    """The teams exist, named after their slugs unless they do already. Safe when several
    processes start at once on one database: a team another one added meanwhile is left as
    it is (the insert skips it), where an ORM insert would fail that process's start."""
    existing = set((await session.scalars(select(Team.slug))).all())
    missing = sorted(slugs - existing)
    if missing:
        rows = [{"slug": slug, "name": slug.replace("-", " ").title()} for slug in missing]
        await session.execute(insert_into(session, Team).values(rows).on_conflict_do_nothing())


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
        password_hash=hash_password(password, email=address, name=name) if password else None,
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


async def set_password(
    session: AsyncSession, agent: Agent, password: str, *, keep_session: int | None = None
) -> None:
    """Give ``agent`` a new password and sign them out everywhere but ``keep_session`` (the
    browser they changed it from), or raise ``StaffError`` naming the rule it breaks."""
    agent.password_hash = hash_password(password, email=agent.email, name=agent.name)
    ended = delete(UiSession).where(UiSession.agent_id == agent.id)
    if keep_session is not None:
        ended = ended.where(UiSession.id != keep_session)
    await session.execute(ended)


async def agent_by_email(session: AsyncSession, email: str) -> Agent | None:
    address = normalize_email(email) or email.strip().lower()
    return await session.scalar(select(Agent).where(Agent.email == address))


async def create_token(session: AsyncSession, agent: Agent, now: datetime, label: str = "") -> str:
    token = new_token()
    session.add(
        ApiToken(agent_id=agent.id, token_hash=token_digest(token), label=label, created_at=now)
    )
    return token

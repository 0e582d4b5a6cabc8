"""Bearer-token authentication for the agent API. Tokens are stored as SHA-256 digests; when a
token was last used is written at most every ``TOUCH_SECONDS`` (admins see it in the console)."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.authz import Principal, load_team_ids
from hub.core.errors import unauthorized
from hub.core.staff import token_digest
from hub.db.models import Agent, ApiToken, Role
from hub.web.keys import hub_of

TOUCH_SECONDS = 300


async def _found(
    session: AsyncSession, token: str
) -> tuple[Principal, int, datetime | None] | None:
    row = (
        await session.execute(
            select(Agent.id, Agent.role, ApiToken.id, ApiToken.last_used_at)
            .join(ApiToken, ApiToken.agent_id == Agent.id)
            .where(
                ApiToken.token_hash == token_digest(token),
                ApiToken.revoked_at.is_(None),
                Agent.active.is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    principal = Principal(row[0], Role(row[1]), await load_team_ids(session, row[0]))
    return principal, row[2], row[3]


async def principal_for_token(session: AsyncSession, token: str) -> Principal | None:
    found = await _found(session, token)
    return found[0] if found else None


def bearer_token(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    return token.strip()


async def authenticate(request: web.Request, session: AsyncSession) -> Principal:
    found = await _found(session, bearer_token(request))
    if found is None:
        raise unauthorized()
    principal, token_id, last_used = found
    hub = hub_of(request)
    now = hub.clock.now()
    if last_used is None or now - last_used > timedelta(seconds=TOUCH_SECONDS):
        async with hub.db.writer() as writer:
            await writer.execute(
                update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
            )
            await writer.commit()
    return principal

"""Bearer-token authentication for the agent API. Tokens are stored as SHA-256 digests."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.authz import Principal, load_team_ids
from hub.core.errors import unauthorized
from hub.core.staff import token_digest
from hub.db.models import Agent, ApiToken, Role


async def principal_for_token(session: AsyncSession, token: str) -> Principal | None:
    row = (
        await session.execute(
            select(Agent.id, Agent.role)
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
    return Principal(row[0], Role(row[1]), await load_team_ids(session, row[0]))


def bearer_token(request: web.Request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    return token.strip()


async def authenticate(request: web.Request, session: AsyncSession) -> Principal:
    principal = await principal_for_token(session, bearer_token(request))
    if principal is None:
        raise unauthorized()
    return principal

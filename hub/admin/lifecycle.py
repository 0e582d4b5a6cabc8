"""An agent's life in the hub as an admin changes it: deactivation (they cannot sign in, their
browser sessions end, their API tokens are revoked, their unused password links stop working
and their open conversations go back through routing, to a colleague or the team's queue;
every message they wrote stays), reactivation, a password reset by one-time link, and their
API tokens (listed, revocable). Audited in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.admin import people_texts as texts
from hub.admin.agents import PeopleContext, agent_or_404, keeps_an_admin, label
from hub.admin.password_links import RESET_HOURS, end_links, issue
from hub.admin.staff_mail import queue_mail
from hub.core.audit import record_change
from hub.core.conversations import ACTIVE
from hub.db.inbox_models import Event, UiSession
from hub.db.models import Agent, ApiToken, Conversation, Presence
from hub.platform.events import publish
from hub.reports.presence import change_presence
from hub.routing.assignment import reassign

REASON = "the assignee was deactivated"
SESSION_ENDED = "session_ended"  # tells the agent's open pages (web/ui/stream.py) to re-check


@dataclass(frozen=True, slots=True)
class Deactivated:
    agent_id: int
    rerouted: int  # conversations given to a colleague
    queued: int  # conversations waiting in their team's queue
    tokens_revoked: int
    sessions_ended: int


@dataclass(frozen=True, slots=True)
class ResetLink:
    agent_id: int
    link: str
    expires_at: datetime
    mailed_to: str | None


@dataclass(frozen=True, slots=True)
class TokenView:
    id: int
    agent_id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def deactivate(
    session: AsyncSession, context: PeopleContext, actor_id: int, agent_id: int, now: datetime
) -> Deactivated:
    agent = await agent_or_404(session, agent_id)
    if not agent.active:
        raise texts.conflict("active", texts.ALREADY_INACTIVE.format(name=agent.name))
    if agent.id == actor_id:
        raise texts.refused("agent", texts.SELF_DEACTIVATE)
    await keeps_an_admin(session, agent)
    agent.active = False
    await change_presence(session, agent, Presence.OFFLINE, now, chosen=True)
    ended = _count(await session.execute(delete(UiSession).where(UiSession.agent_id == agent.id)))
    revoked = _count(
        await session.execute(
            update(ApiToken)
            .where(ApiToken.agent_id == agent.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    await end_links(session, agent.id, now)
    session.add(
        Event(
            kind=SESSION_ENDED,
            conversation_id=None,
            team_ids=[],
            agent_ids=[agent.id],
            payload={},
            created_at=now,
        )
    )
    await session.flush()
    held = (
        await session.scalars(
            select(Conversation)
            .where(Conversation.assignee_id == agent.id, Conversation.status.in_(ACTIVE))
            .order_by(Conversation.id)
        )
    ).all()
    rerouted = 0
    for conversation in held:
        if await reassign(
            session, conversation, REASON, now, sticky_fallback=context.sticky_fallback
        ):
            rerouted += 1
        await publish(session, "assignment", conversation, now, agent_ids=[agent.id])
    await record_change(
        session,
        actor_id=actor_id,
        area="agents",
        action="deactivate",
        target=label(agent),
        old={"active": True},
        new={
            "active": False,
            "conversations_rerouted": rerouted,
            "conversations_queued": len(held) - rerouted,
            "tokens_revoked": revoked,
        },
        at=now,
    )
    return Deactivated(agent.id, rerouted, len(held) - rerouted, revoked, ended)


async def reactivate(session: AsyncSession, actor_id: int, agent_id: int, now: datetime) -> None:
    """They may sign in again with their password (tokens stay revoked: issue new ones)."""
    agent = await agent_or_404(session, agent_id)
    if agent.active:
        raise texts.conflict("active", texts.ALREADY_ACTIVE.format(name=agent.name))
    agent.active = True
    await record_change(
        session,
        actor_id=actor_id,
        area="agents",
        action="reactivate",
        target=label(agent),
        old={"active": False},
        new={"active": True},
        at=now,
    )


async def reset_password(
    session: AsyncSession, context: PeopleContext, actor_id: int, agent_id: int, now: datetime
) -> ResetLink:
    """A one-time link to choose a new password, mailed to the agent and shown to the admin.
    The old password works until the link is used (deactivate to lock someone out now)."""
    agent = await agent_or_404(session, agent_id)
    if not agent.active:
        raise texts.conflict("active", texts.INACTIVE_AGENT.format(name=agent.name))
    purpose = "invite" if agent.password_hash is None else "reset"
    issued = await issue(
        session, agent, purpose, actor_id=actor_id, now=now, public_url=context.public_url
    )
    mailed = None
    if context.mail_channel is not None:
        actor = await session.get(Agent, actor_id)
        text = texts.RESET_TEXT.format(
            name=agent.name,
            actor=actor.name if actor else "An admin",
            instance=context.instance,
            hours=RESET_HOURS,
            link=issued.url,
        )
        subject = texts.RESET_SUBJECT.format(instance=context.instance)
        await queue_mail(
            session, to=agent.email, name=agent.name, subject=subject, text=text, now=now
        )
        mailed = agent.email
    await record_change(
        session,
        actor_id=actor_id,
        area="agents",
        action="reset_password",
        target=label(agent),
        new={"link": "issued (one-time)", "mailed": bool(mailed)},
        at=now,
    )
    return ResetLink(agent.id, issued.url, issued.expires_at, mailed)


async def list_tokens(session: AsyncSession, agent_id: int) -> list[TokenView]:
    await agent_or_404(session, agent_id)
    rows = await session.scalars(
        select(ApiToken).where(ApiToken.agent_id == agent_id).order_by(ApiToken.id.desc())
    )
    return [
        TokenView(t.id, t.agent_id, t.label, t.created_at, t.last_used_at, t.revoked_at)
        for t in rows
    ]


async def revoke_token(
    session: AsyncSession,
    actor_id: int,
    agent_id: int,
    token_id: int,
    now: datetime,
    *,
    calling_hash: str | None = None,
) -> TokenView:
    """``calling_hash``: the digest of the token the request is made with, which is refused
    (the caller would lock themselves out mid-call)."""
    agent = await agent_or_404(session, agent_id)
    token = await session.get(ApiToken, token_id)
    if token is None or token.agent_id != agent.id:
        raise texts.missing("API token", token_id)
    if token.revoked_at is not None:
        raise texts.conflict("token", texts.TOKEN_REVOKED)
    if calling_hash is not None and token.token_hash == calling_hash:
        raise texts.refused("token", texts.TOKEN_CALLING)
    token.revoked_at = now
    await record_change(
        session,
        actor_id=actor_id,
        area="tokens",
        action="revoke",
        target=f"token {token.id} ({token.label or 'no label'}) of {label(agent)}",
        old={"revoked": False},
        new={"revoked": True},
        at=now,
    )
    return TokenView(
        token.id, token.agent_id, token.label, token.created_at, token.last_used_at, now
    )

"""Agents as an admin manages them: the list, invitations (or creation with a password), edits
of name, role, teams, capacity and skills. Every change is checked before anything is written
(a problem names its field; nothing is half-saved), is refused when it would leave no active
admin, and is recorded in the audit log in the same transaction."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Channel
from channels.validation import normalize_email
from hub.admin import people_texts as texts
from hub.admin.password_links import INVITE_DAYS, issue
from hub.admin.roster import AgentView, view_of
from hub.admin.staff_mail import mail_channel, queue_mail
from hub.config.settings import Settings
from hub.core.audit import record_change
from hub.core.errors import ApiError
from hub.core.staff import StaffError, hash_password
from hub.db.models import Agent, AgentTeam, Presence, Role, Team

SKILL = re.compile(r"[\w-]{1,64}")


@dataclass(frozen=True, slots=True)
class PeopleContext:
    """What the people services need from the running hub."""

    instance: str
    public_url: str
    sticky_fallback: str
    mail_channel: str | None  # None: links are only shown, not mailed

    @classmethod
    def of(cls, settings: Settings, channels: Mapping[str, Channel]) -> PeopleContext:
        return cls(
            settings.instance_name,
            settings.web.public_url,
            settings.routing.assignment.sticky_fallback,
            mail_channel(settings, channels),
        )


@dataclass(frozen=True, slots=True)
class AgentFields:
    """A new agent, or the fields of an edit (None: leave as it is)."""

    name: str | None = None
    role: str | None = None
    team_ids: tuple[int, ...] | None = None
    capacity: int | None = None
    skills: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Invited:
    agent: AgentView
    link: str | None  # None when created with a password
    mailed_to: str | None  # None: no email channel, pass the link on yourself


def problems(error: Mapping[str, str]) -> ApiError:
    first, problem = next(iter(error.items()))
    return ApiError(422, "invalid_field", f"{first}: {problem}", error)


def clean_skills(raw: Sequence[str]) -> tuple[str, ...] | None:
    skills = tuple(dict.fromkeys(s.strip() for s in raw if s.strip()))
    if len(skills) > texts.MAX_SKILLS or not all(SKILL.fullmatch(s) for s in skills):
        return None
    return skills


async def check_fields(session: AsyncSession, fields: AgentFields) -> dict[str, str]:
    found: dict[str, str] = {}
    if fields.name is not None:
        if not fields.name.strip():
            found["name"] = texts.NAME_EMPTY
        elif len(fields.name.strip()) > texts.MAX_NAME:
            found["name"] = texts.NAME_LONG
    if fields.role is not None and fields.role not in texts.ROLES:
        found["role"] = texts.ROLE_BAD
    if fields.capacity is not None and not 0 <= fields.capacity <= texts.MAX_CAPACITY:
        found["capacity"] = texts.CAPACITY_BAD
    if fields.skills is not None and clean_skills(fields.skills) is None:
        found["skills"] = texts.SKILLS_BAD
    if fields.team_ids:
        known = set(await session.scalars(select(Team.id).where(Team.id.in_(fields.team_ids))))
        unknown = [i for i in fields.team_ids if i not in known]
        if unknown:
            found["teams"] = texts.TEAM_UNKNOWN.format(ident=unknown[0])
    return found


def label(agent: Agent) -> str:
    return f"{agent.name} <{agent.email}>"


async def agent_or_404(session: AsyncSession, agent_id: int) -> Agent:
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise texts.missing("agent", agent_id)
    return agent


async def keeps_an_admin(session: AsyncSession, agent: Agent) -> None:
    """Refuse (409) when ``agent`` is the last active admin: the caller is about to take that
    away. On PostgreSQL every active admin's row is locked in id order, so two such changes
    wait for each other (no deadlock) and the second sees the first's outcome."""
    if agent.role != Role.ADMIN or not agent.active:
        return
    query = (
        select(Agent.id).where(Agent.role == Role.ADMIN, Agent.active.is_(True)).order_by(Agent.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    admins = set((await session.scalars(query)).all())
    if not admins - {agent.id}:
        raise texts.refused("role", texts.LAST_ADMIN.format(name=agent.name))


async def team_names(session: AsyncSession, agent_id: int) -> list[str]:
    rows = await session.scalars(
        select(Team.name)
        .join(AgentTeam, AgentTeam.team_id == Team.id)
        .where(AgentTeam.agent_id == agent_id)
        .order_by(Team.name)
    )
    return list(rows)


async def invite(
    session: AsyncSession,
    context: PeopleContext,
    actor_id: int,
    email: str,
    fields: AgentFields,
    now: datetime,
    *,
    password: str | None = None,
) -> Invited:
    """A new agent with a one-time link to choose their password (mailed to them and returned
    for the admin to see), or with ``password`` set now and no link. Without a name, the
    address is the name."""
    fields = replace(fields, name=fields.name or None)
    found = await check_fields(session, fields)
    address = normalize_email(email)
    if address is None:
        found = {"email": texts.EMAIL_BAD, **found}
    if password:
        try:
            password_hash = hash_password(password, email=address or email, name=fields.name or "")
        except StaffError as exc:
            found["password"] = str(exc)
    if found:
        raise problems(found)
    assert address is not None
    if await session.scalar(select(Agent.id).where(Agent.email == address)):
        raise texts.conflict("email", texts.EMAIL_TAKEN.format(email=address))
    name = (fields.name or "").strip() or address
    role = Role(fields.role or Role.AGENT)
    agent = Agent(
        email=address,
        name=name,
        role=role,
        password_hash=password_hash if password else None,
        capacity=10 if fields.capacity is None else fields.capacity,
        presence=Presence.OFFLINE,
        skills=list(clean_skills(fields.skills or ()) or ()),
        active=True,
        created_at=now,
    )
    session.add(agent)
    await session.flush()
    for team_id in dict.fromkeys(fields.team_ids or ()):
        session.add(AgentTeam(agent_id=agent.id, team_id=team_id))
    await session.flush()
    link = None
    mailed = None
    if not password:
        issued = await issue(
            session, agent, "invite", actor_id=actor_id, now=now, public_url=context.public_url
        )
        link = issued.url
        inviter = await session.get(Agent, actor_id)
        if context.mail_channel is not None:
            text = texts.INVITE_TEXT.format(
                name=agent.name,
                inviter=inviter.name if inviter else "An admin",
                instance=context.instance,
                role=role.value,
                days=INVITE_DAYS,
                link=link,
                email=agent.email,
            )
            subject = texts.INVITE_SUBJECT.format(instance=context.instance)
            await queue_mail(
                session, to=agent.email, name=agent.name, subject=subject, text=text, now=now
            )
            mailed = agent.email
    view = await view_of(session, agent.id, now)
    await record_change(
        session,
        actor_id=actor_id,
        area="agents",
        action="invite" if link else "create",
        target=label(agent),
        new={
            "role": role.value,
            "teams": [t.name for t in view.teams],
            "capacity": agent.capacity,
            "skills": list(agent.skills),
        },
        at=now,
    )
    return Invited(view, link, mailed)


async def update_agent(
    session: AsyncSession, actor_id: int, agent_id: int, fields: AgentFields, now: datetime
) -> AgentView:
    agent = await agent_or_404(session, agent_id)
    found = await check_fields(session, fields)
    if found:
        raise problems(found)
    if fields.role is not None and fields.role != agent.role:
        await keeps_an_admin(session, agent)
    old: dict[str, object] = {}
    new: dict[str, object] = {}

    def change(key: str, before: object, after: object) -> None:
        if before != after:
            old[key], new[key] = before, after

    if fields.name is not None:
        change("name", agent.name, fields.name.strip())
        agent.name = fields.name.strip()
    if fields.role is not None:
        change("role", agent.role, fields.role)
        agent.role = Role(fields.role)
    if fields.capacity is not None:
        change("capacity", agent.capacity, fields.capacity)
        agent.capacity = fields.capacity
    if fields.skills is not None:
        skills = list(clean_skills(fields.skills) or ())
        change("skills", list(agent.skills or ()), skills)
        agent.skills = skills
    if fields.team_ids is not None:
        before = await team_names(session, agent.id)
        await session.execute(delete(AgentTeam).where(AgentTeam.agent_id == agent.id))
        for team_id in dict.fromkeys(fields.team_ids):
            session.add(AgentTeam(agent_id=agent.id, team_id=team_id))
        await session.flush()
        change("teams", before, await team_names(session, agent.id))
    if new:
        await record_change(
            session,
            actor_id=actor_id,
            area="agents",
            action="edit",
            target=label(agent),
            old=old,
            new=new,
            at=now,
        )
    await session.flush()
    return await view_of(session, agent.id, now)

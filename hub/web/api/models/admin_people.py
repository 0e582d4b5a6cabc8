"""Shapes of the admin console's people API: agents (invitations, edits, deactivation, reset
links, API tokens), teams with their members, the audit log and the first-run checklist."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from hub.admin import people_texts as texts
from hub.web.api.models.common import (
    Answer,
    Id,
    Names,
    Params,
    PathId,
    Reading,
    Says,
    Timestamp,
    WholeNumber,
    whole_range,
)
from hub.web.requests import MAX_ID

RoleName = Literal["agent", "supervisor", "marketer", "admin"]
Area = Literal[
    "agents", "teams", "tokens", "channels", "routing", "sla", "hours", "templates", "settings"
]
ROLE = Says(texts.ROLE_BAD)
NAME = Says(texts.NAME_LONG)
CAPACITY = whole_range(0, texts.MAX_CAPACITY)
TEAMS = Says("must be a list of team ids")
SKILLS = Says(texts.SKILLS_BAD)
Capacity = Annotated[int, Field(ge=0, le=texts.MAX_CAPACITY)]
TeamIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(max_length=100)]
Skills = Annotated[
    list[Annotated[str, Field(max_length=texts.MAX_SKILL)]], Field(max_length=texts.MAX_SKILLS)
]


class AgentId(Params):
    id: Annotated[PathId, Names("agent"), Field(description="agent id")]


class AgentTokenId(Params):
    id: Annotated[PathId, Names("agent"), Field(description="agent id")]
    token_id: Annotated[PathId, Names("API token"), Field(description="API token id")]


class TeamId(Params):
    id: Annotated[PathId, Names("team"), Field(description="team id")]


class TeamMemberId(Params):
    id: Annotated[PathId, Names("team"), Field(description="team id")]
    agent_id: Annotated[PathId, Names("agent"), Field(description="agent id")]


class NewAgent(Reading):
    """Without ``password`` the agent gets a one-time link to choose one (mailed to them when
    an email channel is configured, and in the answer)."""

    email: Annotated[str, Says(texts.EMAIL_BAD), Field(max_length=320)]
    name: Annotated[str, NAME, Field(max_length=texts.MAX_NAME)] = ""
    role: Annotated[RoleName, ROLE] = "agent"
    teams: Annotated[TeamIds, TEAMS, Field(description="team ids")] = []
    capacity: Annotated[Capacity, CAPACITY, Field(description="open conversations at most")] = 10
    skills: Annotated[Skills, SKILLS] = []
    password: Annotated[
        Annotated[str, Field(max_length=1024)] | SkipJsonSchema[None],
        Says("must be a string of at least 12 characters"),
        Field(description="set the password now instead of sending a link"),
    ] = None


class AgentChange(Reading):
    """Fields left out stay as they are; ``teams`` replaces the agent's teams."""

    name: Annotated[
        Annotated[str, Field(max_length=texts.MAX_NAME)] | SkipJsonSchema[None], NAME
    ] = None
    role: Annotated[RoleName | SkipJsonSchema[None], ROLE] = None
    teams: Annotated[TeamIds | SkipJsonSchema[None], TEAMS] = None
    capacity: Annotated[Capacity | SkipJsonSchema[None], CAPACITY] = None
    skills: Annotated[Skills | SkipJsonSchema[None], SKILLS] = None


class TeamRef(Answer):
    id: Id
    name: str


class AdminAgent(Answer):
    id: Id
    email: str
    name: str
    role: RoleName
    state: Literal["active", "invited", "deactivated"] = Field(
        description="invited: has not chosen a password yet"
    )
    presence: Literal["online", "away", "offline"]
    capacity: int
    open_count: int = Field(description="open conversations assigned now")
    skills: list[str]
    teams: list[TeamRef]
    created_at: Timestamp
    pending_link: Literal["invite", "reset"] | None = Field(
        description="a one-time password link that still works"
    )


class AdminAgents(Answer):
    items: list[AdminAgent]


class Invitation(Answer):
    agent: AdminAgent
    link: str | None = Field(description="the one-time link (null when a password was given)")
    mailed_to: str | None = Field(description="where the link was mailed (null: not mailed)")


class ResetLink(Answer):
    agent_id: Id
    link: str = Field(description="the one-time link to choose a new password")
    expires_at: Timestamp
    mailed_to: str | None


class Deactivation(Answer):
    agent_id: Id
    rerouted: int = Field(description="open conversations given to a colleague")
    queued: int = Field(description="open conversations waiting in their team's queue")
    tokens_revoked: int
    sessions_ended: int


class ApiTokenInfo(Answer):
    id: Id
    agent_id: Id
    label: str
    created_at: Timestamp
    last_used_at: Timestamp | None = Field(description="known to within a few minutes")
    revoked_at: Timestamp | None


class ApiTokens(Answer):
    items: list[ApiTokenInfo]


class NewTeam(Reading):
    name: Annotated[str, NAME, Field(max_length=texts.MAX_NAME)]


class TeamChange(Reading):
    name: Annotated[str, NAME, Field(max_length=texts.MAX_NAME)]


class NewMember(Reading):
    agent_id: Annotated[Id, Says("must be an agent id")]


class Member(Answer):
    id: Id
    name: str
    email: str
    role: RoleName
    active: bool


class AdminTeam(Answer):
    id: Id
    slug: str = Field(description="what routing rules and settings name the team by")
    name: str
    members: list[Member]


class AdminTeams(Answer):
    items: list[AdminTeam]


class AuditParams(Params):
    area: Annotated[Area | None, Says(texts.AREA_BAD), Field(description="only this area")] = None
    before: Annotated[
        Annotated[int, Field(ge=1, le=MAX_ID), WholeNumber] | None,
        whole_range(1, MAX_ID),
        Field(description="changes older than this id (next_before of the previous page)"),
    ] = None
    limit: Annotated[int, Field(ge=1, le=200), WholeNumber, whole_range(1, 200)] = 50


class AuditEntry(Answer):
    id: Id
    at: Timestamp
    actor: str = Field(description="the admin's email, or system")
    area: str
    action: str
    target: str
    old: str = Field(description="JSON text (or empty)")
    new: str = Field(description="JSON text (or empty)")


class AuditPage(Answer):
    items: list[AuditEntry]
    next_before: int | None = Field(description="pass as before for the next (older) page")


class ChecklistItem(Answer):
    key: Literal["channel", "agents", "hours"]
    title: str
    done: bool
    href: str = Field(description="the page that does it")
    detail: str


class Checklist(Answer):
    items: list[ChecklistItem]

"""Shapes of the sessions API: an agent's signed-in browsers and signing them out."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from hub.web.api.models.common import Answer, Names, Params, PathId, Timestamp


class AgentId(Params):
    id: Annotated[PathId, Names("agent"), Field(description="agent id")]


class AgentSessionId(Params):
    id: Annotated[PathId, Names("agent"), Field(description="agent id")]
    session: Annotated[PathId, Names("session"), Field(description="session id")]


class AgentSession(Answer):
    id: int
    device: str = Field(description='The browser and system, e.g. "Firefox on Windows"')
    user_agent: str
    client_address: str = Field(description="Where it was signed in from (empty: unknown)")
    created_at: Timestamp
    last_seen_at: Timestamp


class AgentSessions(Answer):
    agent_id: int
    sessions: list[AgentSession] = Field(description="Live sessions, most recently seen first")


class SignedOut(Answer):
    agent_id: int
    ended: int = Field(description="How many sessions were signed out")

"""What the admin console's people pages share: the admin check, the people context of the
running hub, the forms' fields read from a post, and waking what a change concerns."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy

from hub.admin import people_texts as texts
from hub.admin.agents import AgentFields, PeopleContext
from hub.core.errors import forbidden
from hub.web.keys import hub_of
from hub.web.requests import row_id, whole_number
from hub.web.ui.render import page
from hub.web.ui.viewer import Viewer, viewer_of

Posted = MultiDictProxy[str | bytes | bytearray | web.FileField]


def admin(request: web.Request) -> Viewer:
    viewer = viewer_of(request)
    if not viewer.is_admin:
        raise forbidden(texts.ADMINS_ONLY)
    return viewer


def context_of(request: web.Request) -> PeopleContext:
    hub = hub_of(request)
    return PeopleContext.of(hub.settings, hub.channels)


def text(posted: Posted, key: str, limit: int = 1000) -> str:
    return str(posted.get(key, ""))[:limit]


def fields_of(posted: Posted, errors: dict[str, str]) -> AgentFields:
    """The agent form's fields; a capacity or team that is not a number goes into ``errors``."""
    raw_capacity = text(posted, "capacity", 20).strip()
    capacity = whole_number(raw_capacity) if raw_capacity else None
    if raw_capacity and capacity is None:
        errors["capacity"] = texts.CAPACITY_BAD
    team_ids: list[int] = []
    for raw in posted.getall("team", []):
        ident = row_id(str(raw)[:20])
        if ident is None:
            errors["teams"] = texts.TEAM_UNKNOWN.format(ident=str(raw)[:20])
        else:
            team_ids.append(ident)
    skills = [s for s in text(posted, "skills", 4000).replace("\n", ",").split(",") if s.strip()]
    return AgentFields(
        name=text(posted, "name", 400),
        role=text(posted, "role", 40) or "agent",
        team_ids=tuple(team_ids),
        capacity=capacity,
        skills=tuple(s.strip() for s in skills),
    )


def wake(request: web.Request, agent_id: int | None = None) -> None:
    """After a commit: mail to send (the job runner), inboxes to refresh, presence to reload."""
    hub = hub_of(request)
    hub.routing.jobs.wake()
    hub.events.wake()
    hub.dispatcher.wake()
    if agent_id is not None:
        hub.presence.forget(agent_id)


def admin_page(
    request: web.Request, template: str, *, status: int = 200, **context: object
) -> web.Response:
    notice = texts.NOTICES.get(request.query.get("notice", ""))
    return page(request, template, status=status, **({"notice": notice} | context))

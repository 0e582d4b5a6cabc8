"""Rendering for the agent web app: pages with the common context, problems as pages or JSON,
and redirects back to where a form came from with a short notice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NoReturn
from urllib.parse import urlencode

from aiohttp import web

from hub.core.errors import ApiError
from hub.web import csrf
from hub.web.keys import hub_of
from hub.web.ui.state import ui_of
from hub.web.ui.viewer import VIEWER

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
NOTICES = {
    "reply": "Reply queued for delivery.",
    "note": "Note added.",
    "assigned": "Assignment changed.",
    "handed_back": "Handed back to the bot.",
    "team": "Conversation moved to another team.",
    "status": "Status changed.",
    "priority": "Priority changed.",
    "snoozed": "Conversation snoozed.",
    "tags": "Tags updated.",
    "retry": "Message queued to be sent again.",
    "merged": "Customers merged.",
    "unmerged": "Merge undone.",
    "bulk": "Bulk action applied.",
    "canned": "Canned responses updated.",
    "agent": "Agent saved.",
    "password": "Password changed; the agent's sessions were ended.",
    "presence": "Presence updated.",
    "session_ended": "That session was signed out.",
    "own_password": "Password changed; your other sessions were signed out.",
    "segment": "Segment saved.",
    "segment_deleted": "Segment deleted.",
    "admin_saved": "Saved. Every hub process applies it within a few seconds.",
    "admin_reset": "Back to the value from the config file.",
    "notices_read": "Marked read.",
}


def wants_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept or "text/event-stream" in accept


def render(request: web.Request, template: str, **context: Any) -> str:
    hub = hub_of(request)
    viewer = request.get(VIEWER)
    base: dict[str, Any] = {
        "instance_name": hub.settings.instance_name,
        "viewer": viewer,
        "now": hub.clock.now(),
        "csrf_field": csrf.FIELD,
        "csrf_token": viewer.csrf_token() if viewer is not None else "",
        "notice": NOTICES.get(request.query.get("notice", "")),
        "path": request.path,
        "static": lambda name: str(request.app.router["ui-static"].url_for(filename=name)),
    }
    return ui_of(request).pages.get_template(template).render(base | context)


def page(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    return web.Response(
        text=render(request, template, **context), content_type="text/html", status=status
    )


def fragment(request: web.Request, template: str, **context: Any) -> web.Response:
    return page(request, template, **context)


def problem_response(request: web.Request, error: ApiError) -> web.Response:
    if wants_json(request) or request.headers.get("X-CSRF-Token"):
        return web.json_response(error.body(), status=error.status, headers=error.headers())
    response = page(request, "ui/problem.html", status=error.status, problem=error)
    response.headers.update(error.headers())
    return response


def back_to(target: str, default: str) -> str:
    if target.startswith("/ui/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def see_other(target: str, notice: str | None = None) -> NoReturn:
    if notice:
        joiner = "&" if "?" in target else "?"
        target = f"{target}{joiner}{urlencode({'notice': notice})}"
    raise web.HTTPSeeOther(target)

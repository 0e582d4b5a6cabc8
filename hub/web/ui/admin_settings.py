"""/ui/admin/settings: every value the console can change, with where it comes from (default,
config file, environment, admin console) and, for the safe ones, a form to change it or hand it
back to the file. SLA targets, calendars and team defaults are edited on /ui/admin/sla."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from hub.admin import texts
from hub.admin.routing_rules import team_slugs
from hub.admin.settings_store import EDITABLE
from hub.config.settings import PRIORITIES
from hub.core.errors import not_found
from hub.web.keys import hub_of
from hub.web.ui.admin_forms import admin_only, field_errors, message_for, posted, store
from hub.web.ui.render import page, see_other

ON_SLA_PAGE = {"sla", "sla_policies", "calendars", "admin.teams"}
JSON_KEYS = {"followups"}


def _choices(request: web.Request, key: str, teams: list[str]) -> list[tuple[str, str]]:
    settings = hub_of(request).settings
    if key == "routing.default_team":
        return [(slug, slug) for slug in teams]
    if key == "routing.default_priority":
        return [(p, p.title()) for p in PRIORITIES]
    if key == "routing.calendar":
        return [("", "Always open"), *((name, name) for name in sorted(settings.calendars))]
    return []


async def _page(
    request: web.Request,
    *,
    errors: dict[str, str] | None = None,
    drafts: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    hub = hub_of(request)
    await hub.settings_store.refresh(hub.db)
    async with hub.db.reader() as session:
        teams = sorted(await team_slugs(session))
    rows: list[dict[str, Any]] = []
    for entry in hub.settings_store.entries():
        shown = entry.value
        if entry.key in JSON_KEYS:
            shown = json.dumps(entry.value, indent=2, ensure_ascii=False)
        rows.append(
            {
                "entry": entry,
                "shown": (drafts or {}).get(entry.key, shown),
                "source": texts.SOURCE_LABELS[entry.source],
                "choices": _choices(request, entry.key, teams),
                "on_sla_page": entry.key in ON_SLA_PAGE,
                "json": entry.key in JSON_KEYS,
                "error": (errors or {}).get(entry.key),
            }
        )
    return page(request, "ui/admin/settings.html", status=status, rows=rows)


async def settings_page(request: web.Request) -> web.Response:
    admin_only(request)
    return await _page(request)


async def save_setting(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    key = request.match_info["key"]
    if key not in EDITABLE or key in ON_SLA_PAGE:
        raise not_found("setting", key[:64])
    form = await posted(request)
    raw = form.get("value", "")
    value: Any = raw.strip()
    if key in JSON_KEYS:
        try:
            value = json.loads(raw)
        except ValueError as exc:
            errors = {key: f"is not valid JSON: {exc}"}
            return await _page(request, errors=errors, drafts={key: raw}, status=422)
    error = await store(request, key, value)
    if error is not None:
        errors = {key: message_for(key, field_errors(error))}
        return await _page(request, errors=errors, drafts={key: raw}, status=422)
    see_other("/ui/admin/settings", "admin_saved")


async def reset_setting(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    key = request.match_info["key"]
    if key not in EDITABLE:
        raise not_found("setting", key[:64])
    error = await store(request, key, None)
    if error is not None:
        errors = {key: message_for(key, field_errors(error))}
        return await _page(request, errors=errors, status=422)
    see_other("/ui/admin/settings", "admin_reset")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/admin/settings", settings_page)
    router.add_post("/ui/admin/settings/{key}", save_setting)
    router.add_post("/ui/admin/settings/{key}/reset", reset_setting)

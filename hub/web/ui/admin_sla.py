"""/ui/admin/sla: SLA targets per priority, SLA policies (per priority and tier), business-hours
calendars (weekly hours, time zone, holidays) and each team's calendar and default policy. Each
form stores one setting in the database (hub.admin.settings_store), audited in area "sla"
(targets, policies, team defaults) or "hours" (calendars and holidays)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic_core import to_jsonable_python

from hub.admin.routing_rules import team_slugs
from hub.config.routing import WEEKDAYS
from hub.config.settings import PRIORITIES
from hub.core.errors import ApiError
from hub.web.keys import hub_of
from hub.web.ui.admin_forms import admin_only, field_errors, message_for, posted, split, store
from hub.web.ui.render import page, see_other

BASE = "/ui/admin/sla"
MINUTES = ("first_response_minutes", "next_response_minutes", "resolution_minutes")
FLAGS = ("notify_supervisor", "raise_priority", "reassign")


def _number(raw: str) -> Any:
    raw = raw.strip()
    return None if raw == "" else raw  # the settings check says what is wrong with it


async def _page(
    request: web.Request,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    hub = hub_of(request)
    await hub.settings_store.refresh(hub.db)
    settings = hub.settings
    async with hub.db.reader() as session:
        teams = sorted(await team_slugs(session) | set(settings.admin.teams))
    editing = request.query.get("policy", "")
    calendar = request.query.get("calendar", "")
    return page(
        request,
        "ui/admin/sla.html",
        status=status,
        priorities=PRIORITIES,
        weekdays=WEEKDAYS,
        targets=settings.sla,
        policies=settings.sla_policies,
        policy=next((p for p in settings.sla_policies if p.name == editing), None),
        calendars=settings.calendars,
        calendar_name=calendar if calendar in settings.calendars else "",
        teams=teams,
        team_settings=settings.admin.teams,
        sources={e.key: e.source for e in hub.settings_store.entries()},
        errors=errors or {},
    )


async def _store(request: web.Request, key: str, value: Any, form: str) -> web.StreamResponse:
    error: ApiError | None = await store(request, key, value)
    if error is not None:
        return await _page(
            request, errors={form: message_for(key, field_errors(error))}, status=422
        )
    see_other(BASE, "admin_saved")


async def sla_page(request: web.Request) -> web.Response:
    admin_only(request)
    return await _page(request)


async def save_targets(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    form = await posted(request)
    value = {
        priority: {
            "first_response_minutes": _number(form.get(f"{priority}.first_response_minutes", "")),
            "resolution_minutes": _number(form.get(f"{priority}.resolution_minutes", "")),
        }
        for priority in PRIORITIES
    }
    return await _store(request, "sla", value, "targets")


def _policies(request: web.Request) -> list[dict[str, Any]]:
    return list(to_jsonable_python(hub_of(request).settings.sla_policies))


async def save_policy(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    form = await posted(request)
    editing = form.get("editing", "")
    policy: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "priorities": [p for p in form.get("priorities", "").split("\n") if p],
        "tiers": split(form.get("tiers", "")),
        "calendar": form.get("calendar") or None,
        "warn_before_minutes": _number(form.get("warn_before_minutes", "")) or 0,
    }
    for key in MINUTES:
        policy[key] = _number(form.get(key, ""))
    for key in FLAGS:
        policy[key] = form.get(key) == "on"
    policies = _policies(request)
    names = [p["name"] for p in policies]
    if not policy["name"]:
        return await _page(request, errors={"policy": "name: is required"}, status=422)
    if policy["name"] in names and policy["name"] != editing:
        problem = f"name: a policy named {policy['name']!r} exists"
        return await _page(request, errors={"policy": problem}, status=422)
    if editing in names:
        policies[names.index(editing)] = policy
    else:
        policies.append(policy)
    return await _store(request, "sla_policies", policies, "policy")


async def delete_policy(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    name = (await posted(request)).get("name", "")
    policies = [p for p in _policies(request) if p["name"] != name]
    return await _store(request, "sla_policies", policies, "policy")


async def save_calendar(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    form = await posted(request)
    name = form.get("name", "").strip()
    if not name or len(name) > 64:
        return await _page(
            request, errors={"calendar": "name: is required (64 characters at most)"}, status=422
        )
    calendars = dict(to_jsonable_python(hub_of(request).settings.calendars))
    hours = {day: split(form.get(f"hours.{day}", "")) for day in WEEKDAYS}
    calendars[name] = {
        "timezone": form.get("timezone", "").strip() or "UTC",
        "hours": {day: spans for day, spans in hours.items() if spans},
        "holidays": split(form.get("holidays", "")),
    }
    return await _store(request, "calendars", calendars, "calendar")


async def delete_calendar(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    name = (await posted(request)).get("name", "")
    calendars = dict(to_jsonable_python(hub_of(request).settings.calendars))
    calendars.pop(name, None)
    return await _store(request, "calendars", calendars, "calendar")


async def save_teams(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    form = await posted(request)
    teams: dict[str, dict[str, str | None]] = {}
    for key, value in form.items():
        slug, _, what = key.rpartition(".")
        if what in ("calendar", "sla_policy") and slug.startswith("team:"):
            teams.setdefault(slug.removeprefix("team:"), {})[what] = value or None
    kept = {slug: v for slug, v in teams.items() if any(v.values())}
    return await _store(request, "admin.teams", kept, "teams")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(BASE, sla_page)
    router.add_post(f"{BASE}/targets", save_targets)
    router.add_post(f"{BASE}/policies", save_policy)
    router.add_post(f"{BASE}/policies/delete", delete_policy)
    router.add_post(f"{BASE}/calendars", save_calendar)
    router.add_post(f"{BASE}/calendars/delete", delete_calendar)
    router.add_post(f"{BASE}/teams", save_teams)

"""/ui/admin/routing: the routing rules in order (first match wins) with their conditions and
actions; add, edit, move, disable and delete one rule at a time (a rule that cannot match is
refused with the reason beside the field); and a dry run showing which rule would fire, and the
team and priority that result, for a pasted message or a past message id."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.admin import routing_rules as service
from hub.config.settings import PRIORITIES, RoutingRule
from hub.routing.rules_store import RulesInvalid, rules_json
from hub.web.api.admin_routing import dry_run_for
from hub.web.keys import hub_of
from hub.web.requests import row_id
from hub.web.ui.admin_forms import admin_only, posted, split
from hub.web.ui.render import page, see_other
from hub.web.ui.viewer import viewer_of

LISTS = ("keywords", "tiers", "tags", "languages", "add_tags")
CHOICES = {"business_hours": ("inside", "outside"), "customer": ("new", "returning")}
BASE = "/ui/admin/routing"


def summary(rule: RoutingRule) -> dict[str, str]:
    """What a rule looks at and what it does, in words for the list."""
    when = []
    for name in service.conditions_of(rule):
        value = getattr(rule, name)
        if isinstance(value, tuple):
            value = ", ".join(value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        when.append(f"{name.replace('_', ' ')}: {value}")
    then = [f"team {rule.team}" if rule.team else "default team"]
    if rule.priority:
        then.append(f"priority {rule.priority}")
    if rule.add_tags:
        then.append("tags " + ", ".join(rule.add_tags))
    if rule.spam:
        then.append("spam")
    if rule.bot:
        then.append(f"bot {rule.bot}")
    return {"when": "; ".join(when) or "(no condition)", "then": "; ".join(then)}


async def _page(
    request: web.Request,
    *,
    draft: dict[str, Any] | None = None,
    editing: str | None = None,
    errors: dict[str, str] | None = None,
    dry: dict[str, Any] | None = None,
    status: int = 200,
) -> web.Response:
    hub = hub_of(request)
    assert hub.routing is not None
    async with hub.db.reader() as session:
        version, ruleset = await hub.routing.engine.rules.current(session)
        teams = sorted(await service.team_slugs(session))
    if editing is None:
        editing = request.query.get("edit") or None
    if draft is None:
        found = [r for r in ruleset.rules if r.name == editing]
        draft = rules_json(found)[0] if found else {"enabled": True}
        editing = editing if found else None
    rows = [
        {"rule": rule, "position": i + 1, **summary(rule)} for i, rule in enumerate(ruleset.rules)
    ]
    return page(
        request,
        "ui/admin/routing.html",
        status=status,
        rows=rows,
        version=version,
        source="admin console" if version else "config file",
        draft=draft,
        editing=editing,
        errors=errors or {},
        dry=dry or {},
        channels=sorted(hub.settings.channels),
        teams=teams,
        priorities=PRIORITIES,
        choices=CHOICES,
        default_team=hub.settings.routing.default_team,
    )


def _rule_from(form: dict[str, str], base: dict[str, Any]) -> dict[str, Any]:
    """The rule as the form describes it, over the fields the form does not show."""
    rule = dict(base)
    rule["name"] = form.get("name", "").strip()
    rule["channels"] = [c for c in form.get("channels", "").split("\n") if c]
    for key in LISTS:
        rule[key] = split(form.get(key, ""))
    rule["regex"] = [line.strip() for line in form.get("regex", "").splitlines() if line.strip()]
    for key in ("business_hours", "customer", "team", "priority"):
        rule[key] = form.get(key) or None
    attachment = form.get("has_attachment", "")
    rule["has_attachment"] = {"yes": True, "no": False}.get(attachment)
    rule["category"] = form.get("category", "").strip()
    rule["enabled"] = form.get("enabled") == "on"
    return {k: v for k, v in rule.items() if v not in ([], None, "") or k == "name"}


def _field(where: str) -> str:
    """``rules.3.team`` -> ``team``; a problem with the whole rule -> ""."""
    parts = where.split(".")
    if parts[0] == "rules":
        return parts[2] if len(parts) > 2 else ""
    return parts[0]


async def _change(
    request: web.Request, edit: service.Edit, action: str, target: str
) -> RulesInvalid | None:
    hub, viewer = hub_of(request), viewer_of(request)
    assert hub.routing is not None
    try:
        async with hub.db.writer() as session:
            await service.change_rules(
                session,
                hub.routing.engine.rules,
                edit,
                viewer.agent_id,
                hub.clock.now(),
                action=action,
                target=target,
            )
            await session.commit()
    except RulesInvalid as exc:
        return exc
    return None


async def routing_page(request: web.Request) -> web.Response:
    admin_only(request)
    return await _page(request)


async def save_rule(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    hub = hub_of(request)
    assert hub.routing is not None
    form = await posted(request)
    editing = form.get("editing") or None
    async with hub.db.reader() as session:
        _, ruleset = await hub.routing.engine.rules.current(session)
    base = next((rules_json([r])[0] for r in ruleset.rules if r.name == editing), {})
    raw = _rule_from(form, base)
    at = next((i for i, r in enumerate(ruleset.rules) if r.name == editing), len(ruleset.rules))
    try:
        rule = service.parse_one(hub.settings, raw, at)
    except RulesInvalid as exc:
        error: RulesInvalid | None = exc
    else:
        error = await _change(
            request,
            lambda rules: service.with_rule(rules, rule, editing),
            "edit" if editing else "create",
            rule.name,
        )
    if error is not None:
        errors = {_field(error.where): error.problem}
        return await _page(request, draft=raw, editing=editing, errors=errors, status=422)
    see_other(BASE, "admin_saved")


async def rule_action(request: web.Request) -> web.StreamResponse:
    """Move up or down, enable, disable or delete the rule named in the form."""
    admin_only(request)
    form = await posted(request)
    name = form.get("name", "")
    action = form.get("action", "")
    edits: dict[str, service.Edit] = {
        "up": lambda rules: service.moved(rules, name, _position(rules, name) - 1),
        "down": lambda rules: service.moved(rules, name, _position(rules, name) + 1),
        "enable": lambda rules: service.toggled(rules, name, True),
        "disable": lambda rules: service.toggled(rules, name, False),
        "delete": lambda rules: service.without(rules, name),
    }
    edit = edits.get(action)
    if edit is None:
        return await _page(request, errors={"": f"unknown action {action[:20]!r}"}, status=422)
    labels = {"up": "move", "down": "move"}
    error = await _change(request, edit, labels.get(action, action), name)
    if error is not None:
        return await _page(request, errors={"": f"{name}: {error.problem}"}, status=422)
    see_other(BASE, "admin_saved")


def _position(rules: tuple[RoutingRule, ...], name: str) -> int:
    return next((i for i, r in enumerate(rules) if r.name == name), 0)


async def dry_run(request: web.Request) -> web.Response:
    admin_only(request)
    form = await posted(request)
    raw_id = form.get("message_id", "").strip()
    message_id = row_id(raw_id) if raw_id else None
    dry: dict[str, Any] = {"form": form}
    if raw_id and message_id is None:
        dry["error"] = "message_id: must be a message id (a whole number)"
        return await _page(request, dry=dry, status=422)
    try:
        result = await dry_run_for(
            hub_of(request),
            form.get("channel", ""),
            form.get("from", ""),
            form.get("subject", ""),
            form.get("text", ""),
            message_id,
        )
    except RulesInvalid as exc:
        dry["error"] = f"{exc.where}: {exc.problem}"
        return await _page(request, dry=dry, status=422)
    dry["result"] = result
    return await _page(request, dry=dry)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(BASE, routing_page)
    router.add_post(f"{BASE}/rules", save_rule)
    router.add_post(f"{BASE}/rules/action", rule_action)
    router.add_post(f"{BASE}/dry-run", dry_run)

"""The routing API: rules (read by supervisors and admins, replaced by admins), a dry run that
shows which rule a message would hit and why the others did not, agents' presence, capacity and
skills, SLA events for reports, and the caller's notices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import or_, select

from hub.core.authz import Principal
from hub.core.errors import forbidden, invalid_field, not_found, rules_invalid
from hub.db.models import Agent, Presence, Role
from hub.db.routing_models import AdminNotice, SlaEvent
from hub.routing.rules import Facts, RuleSet
from hub.routing.rules_store import RulesInvalid, parse_rules, rules_json
from hub.routing.service import Routing
from hub.web.api import followups as followup_api
from hub.web.api.serialize import iso
from hub.web.auth import authenticate
from hub.web.keys import Hub, hub_of
from hub.web.requests import int_query, json_object, path_id

DRY_RUN_FIELDS = {
    "channel",
    "text",
    "subject",
    "recipients",
    "customer",
    "returning",
    "has_attachment",
    "at",
    "rules",
}


def routing_of(hub: Hub) -> Routing:
    assert hub.routing is not None
    return hub.routing


def require(principal: Principal, roles: tuple[Role, ...], action: str) -> None:
    if principal.role not in roles:
        raise forbidden(action)


async def get_rules(request: web.Request) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        principal = await authenticate(request, session)
        require(principal, (Role.ADMIN, Role.SUPERVISOR), "read routing rules")
        version, ruleset = await routing_of(hub).engine.rules.current(session)
    source = "api" if version else "config"
    return web.json_response(
        {"version": version, "source": source, "rules": rules_json(ruleset.rules)}
    )


async def put_rules(request: web.Request) -> web.Response:
    hub = hub_of(request)
    payload = await json_object(request, {"rules"})
    try:
        rules = parse_rules(hub.settings, payload.get("rules"))
    except RulesInvalid as exc:
        raise rules_invalid(exc.where, exc.problem) from None
    async with hub.db.writer() as session:
        principal = await authenticate(request, session)
        require(principal, (Role.ADMIN,), "change routing rules")
        store = routing_of(hub).engine.rules
        version = await store.save(session, rules, principal.agent_id, hub.clock.now())
        await session.commit()
    return web.json_response({"version": version, "source": "api", "rules": rules_json(rules)})


def _strings(payload: dict[str, Any], name: str) -> frozenset[str]:
    value = payload.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_field(name, "must be a list of strings")
    return frozenset(value)


def _text(payload: dict[str, Any], name: str, default: str | None = None) -> str:
    value = payload.get(name, default)
    if not isinstance(value, str):
        raise invalid_field(name, "is required and must be a string")
    return value


def _flag(payload: dict[str, Any], name: str) -> bool:
    value = payload.get(name, False)
    if not isinstance(value, bool):
        raise invalid_field(name, "must be true or false")
    return value


def dry_run_facts(hub: Hub, payload: dict[str, Any], engine_hours: Any) -> Facts:
    channel = _text(payload, "channel")
    config = hub.settings.channels.get(channel)
    if config is None:
        raise invalid_field("channel", f"no channel named {channel!r} is configured")
    customer = payload.get("customer", {})
    if not isinstance(customer, dict):
        raise invalid_field("customer", "must be an object with tier, tags, attributes, locale")
    attributes = customer.get("attributes", {})
    if not isinstance(attributes, dict):
        raise invalid_field("customer.attributes", "must be an object")
    at_raw = _text(payload, "at", hub.clock.now().isoformat())
    try:
        at = datetime.fromisoformat(at_raw)
    except ValueError:
        raise invalid_field("at", "must be an ISO 8601 date and time") from None
    if at.tzinfo is None:
        raise invalid_field("at", "must include a time zone offset")
    recipients = {r.lower() for r in _strings(payload, "recipients")}
    address = str(getattr(config, "address", "") or "").lower()
    return Facts(
        channel=channel,
        channel_kind=config.kind,
        text=f"{_text(payload, 'subject', '')}\n{_text(payload, 'text')}",
        recipients=frozenset(recipients | ({address} if address else set())),
        tier=str(customer.get("tier", "standard")),
        tags=_strings(customer, "tags"),
        attributes={str(k): str(v) for k, v in attributes.items()},
        language=str(customer.get("locale", "en")).split("-")[0].lower(),
        inside_hours=engine_hours.is_open(at),
        returning=_flag(payload, "returning"),
        has_attachment=_flag(payload, "has_attachment"),
    )


async def dry_run(request: web.Request) -> web.Response:
    hub = hub_of(request)
    payload = await json_object(request, DRY_RUN_FIELDS)
    engine = routing_of(hub).engine
    facts = dry_run_facts(hub, payload, engine.hours)
    async with hub.db.reader() as session:
        principal = await authenticate(request, session)
        require(principal, (Role.ADMIN, Role.SUPERVISOR), "run routing dry runs")
        version, ruleset = await engine.rules.current(session)
    if "rules" in payload:  # try a draft without saving it
        try:
            ruleset = RuleSet(hub.settings.routing, parse_rules(hub.settings, payload["rules"]))
        except RulesInvalid as exc:
            raise rules_invalid(exc.where, exc.problem) from None
    actions, trace = ruleset.explain(facts)
    matched = {"index": actions.index, "name": actions.rule} if actions.rule else None
    body = {
        "version": version,
        "matched": matched,
        "actions": {
            "team": actions.team,
            "priority": actions.priority,
            "tags": list(actions.tags),
            "open_ticket": actions.open_ticket,
            "category": actions.category,
            "assign": actions.assign,
            "skills": list(actions.skills),
            "template": actions.template,
            "bot": actions.bot,
            "spam": actions.spam,
        },
        "inside_business_hours": facts.inside_hours,
        "trace": trace,
    }
    return web.json_response(body)


async def put_agent(request: web.Request) -> web.Response:
    """Presence (the agent themself, or a supervisor/admin), capacity and skills (supervisor or
    admin). Going online drains the queue at once; going offline hands over open work."""
    hub = hub_of(request)
    payload = await json_object(request, {"presence", "capacity", "skills"})
    presence = payload.get("presence")
    if presence is not None and presence not in set(Presence):
        raise invalid_field("presence", "must be one of online, away, offline")
    capacity = payload.get("capacity")
    if capacity is not None and (
        not isinstance(capacity, int) or isinstance(capacity, bool) or not 0 <= capacity <= 1000
    ):
        raise invalid_field("capacity", "must be a whole number from 0 to 1000")
    skills = payload.get("skills")
    if skills is not None and (
        not isinstance(skills, list) or not all(isinstance(s, str) and s for s in skills)
    ):
        raise invalid_field("skills", "must be a list of non-empty strings")
    routing = routing_of(hub)
    now = hub.clock.now()
    async with hub.db.writer() as session:
        principal = await authenticate(request, session)
        agent_id = path_id(request, "agent")
        agent = await session.get(Agent, agent_id)
        if agent is None:
            raise not_found("agent", agent_id)
        manager = principal.role in (Role.ADMIN, Role.SUPERVISOR)
        if not manager and (agent_id != principal.agent_id or set(payload) - {"presence"}):
            raise forbidden("change other agents or their capacity and skills")
        if presence is not None:
            agent.presence = presence
        if capacity is not None:
            agent.capacity = capacity
        if skills is not None:
            agent.skills = sorted(set(skills))
        await session.flush()
        if presence == Presence.OFFLINE:
            await routing.monitor.reassignments(session, now)
        await routing.monitor.queue(session, now)
        await session.commit()
        await session.refresh(agent)
        body = {
            "id": agent.id,
            "presence": agent.presence,
            "capacity": agent.capacity,
            "skills": agent.skills,
            "open_count": agent.open_count,
        }
    hub.dispatcher.wake()
    return web.json_response(body)


async def sla_events(request: web.Request) -> web.Response:
    hub = hub_of(request)
    kind = request.query.get("kind", "breach")
    if kind not in ("breach", "warning"):
        raise invalid_field("kind", "must be breach or warning")
    limit = int_query(request, "limit", 100, 1, 1000)
    async with hub.db.reader() as session:
        principal = await authenticate(request, session)
        require(principal, (Role.ADMIN, Role.SUPERVISOR), "read SLA reports")
        rows = (
            await session.scalars(
                select(SlaEvent)
                .where(SlaEvent.kind == kind)
                .order_by(SlaEvent.occurred_at.desc(), SlaEvent.id.desc())
                .limit(limit)
            )
        ).all()
    items = [
        {
            "conversation_id": e.conversation_id,
            "metric": e.metric,
            "kind": e.kind,
            "policy": e.policy,
            "priority": e.priority,
            "team_id": e.team_id,
            "assignee_id": e.assignee_id,
            "due_at": iso(e.due_at),
            "occurred_at": iso(e.occurred_at),
        }
        for e in rows
    ]
    summary: dict[str, int] = {}
    for event in rows:
        summary[event.metric] = summary.get(event.metric, 0) + 1
    return web.json_response({"items": items, "by_metric": summary})


async def notices(request: web.Request) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        principal = await authenticate(request, session)
        mine = AdminNotice.agent_id == principal.agent_id
        if principal.role == Role.ADMIN:
            mine = or_(mine, AdminNotice.agent_id.is_(None))
        rows = (
            await session.scalars(
                select(AdminNotice).where(mine).order_by(AdminNotice.id.desc()).limit(200)
            )
        ).all()
    items = [
        {
            "id": n.id,
            "kind": n.kind,
            "text": n.text,
            "conversation_id": n.conversation_id,
            "created_at": iso(n.created_at),
        }
        for n in rows
    ]
    return web.json_response({"items": items})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/v1/routing/rules", get_rules)
    router.add_put("/api/v1/routing/rules", put_rules)
    router.add_post("/api/v1/routing/dry-run", dry_run)
    router.add_put("/api/v1/routing/agents/{id}", put_agent)
    router.add_get("/api/v1/routing/sla/events", sla_events)
    router.add_get("/api/v1/routing/notices", notices)
    followup_api.add_routes(router)

"""The routing API: rules (read by supervisors and admins, replaced by admins), a dry run that
shows which rule a message would hit and why the others did not, agents' presence, capacity and
skills, SLA events for reports, and the caller's notices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from hub.admin.routing_rules import save_rules
from hub.assembly import Hub
from hub.core.authz import Principal
from hub.core.errors import forbidden, not_found, rules_invalid
from hub.core.notice_inbox import notices_of
from hub.db.models import Agent, Role
from hub.db.routing_models import SlaEvent
from hub.routing.availability import Availability, set_availability
from hub.routing.rules import Facts, RuleSet
from hub.routing.rules_store import RulesInvalid
from hub.routing.service import Routing
from hub.web.api.edge import Call, Doc, Endpoint, endpoint
from hub.web.api.models import routing as shapes
from hub.web.api.models.routing import (
    AgentChange,
    AgentId,
    AgentState,
    Decision,
    DryRun,
    NewRules,
    Notices,
    Ruleset,
    SlaEvents,
    SlaQuery,
)

TAG = "Routing"


def routing_of(hub: Hub) -> Routing:
    assert hub.routing is not None
    return hub.routing


def require(principal: Principal, roles: tuple[Role, ...], action: str) -> None:
    if principal.role not in roles:
        raise forbidden(action)


@endpoint(
    "GET",
    "/api/v1/routing/rules",
    Doc(
        TAG,
        "The routing rules in force (supervisors and admins)",
        "getRoutingRules",
        ok={200: "The rules"},
        errors=(401, 403),
    ),
)
async def get_rules(call: Call) -> Ruleset:
    require(call.principal, (Role.ADMIN, Role.SUPERVISOR), "read routing rules")
    async with call.hub.db.reader() as session:
        version, ruleset = await routing_of(call.hub).engine.rules.current(session)
    return Ruleset(version=version, source="api" if version else "config", rules=ruleset.rules)


@endpoint(
    "PUT",
    "/api/v1/routing/rules",
    Doc(
        TAG,
        "Replace the routing rules (admins)",
        "putRoutingRules",
        ok={200: "The saved rules"},
        errors=(400, 401, 403, 413, 422),
        description="A rule without a condition or naming an unknown team or channel is "
        "refused (422) naming the field.",
    ),
)
async def put_rules(call: Call, body: NewRules) -> Ruleset:
    require(call.principal, (Role.ADMIN,), "change routing rules")
    hub = call.hub
    async with hub.db.writer() as session:
        store = routing_of(hub).engine.rules
        try:
            version = await save_rules(
                session, store, body.rules, call.principal.agent_id, hub.clock.now()
            )
        except RulesInvalid as exc:
            raise rules_invalid(exc.where, exc.problem) from None
        await session.commit()
    return Ruleset(version=version, source="api", rules=body.rules)


def dry_run_facts(hub: Hub, body: DryRun, hours: Any) -> Facts:
    config = hub.settings.channels[body.channel]
    at = datetime.fromisoformat(body.at) if body.at is not None else hub.clock.now()
    recipients = {r.lower() for r in body.recipients}
    address = str(getattr(config, "address", "") or "").lower()
    customer = body.customer
    return Facts(
        channel=body.channel,
        channel_kind=config.kind,
        text=f"{body.subject}\n{body.text}",
        recipients=frozenset(recipients | ({address} if address else set())),
        tier=customer.tier,
        tags=frozenset(customer.tags),
        attributes={str(k): str(v) for k, v in customer.attributes.items()},
        language=customer.locale.split("-")[0].lower(),
        inside_hours=hours.is_open(at),
        returning=body.returning,
        has_attachment=body.has_attachment,
    )


@endpoint(
    "POST",
    "/api/v1/routing/dry-run",
    Doc(
        TAG,
        "Which rule a message would hit and why the others did not (supervisors, admins)",
        "routingDryRun",
        description="Nothing is stored; pass rules to try a draft instead of the rules in force.",
        ok={200: "The decision"},
        errors=(400, 401, 403, 413, 422),
    ),
)
async def dry_run(call: Call, body: DryRun) -> Decision:
    require(call.principal, (Role.ADMIN, Role.SUPERVISOR), "run routing dry runs")
    hub = call.hub
    engine = routing_of(hub).engine
    facts = dry_run_facts(hub, body, engine.hours)
    async with hub.db.reader() as session:
        version, ruleset = await engine.rules.current(session)
    if body.rules is not None:  # try a draft without saving it
        ruleset = RuleSet(hub.settings.routing, body.rules)
    actions, trace = ruleset.explain(facts)
    matched = (
        shapes.RuleHit(index=actions.index, name=actions.rule)
        if actions.rule and actions.index is not None
        else None
    )
    return Decision(
        version=version,
        matched=matched,
        actions=shapes.DecidedActions.model_validate(actions),
        inside_business_hours=facts.inside_hours,
        trace=[shapes.RuleTrace.model_validate(entry) for entry in trace],
    )


@endpoint(
    "PUT",
    "/api/v1/routing/agents/{id}",
    Doc(
        TAG,
        "Set an agent's presence, capacity and skills",
        "putAgentRouting",
        description="Agents may change their own presence; capacity, skills and other "
        "agents need a supervisor or admin. Going online drains the queue; going offline "
        "hands over open work.",
        ok={200: "The agent"},
        errors=(400, 401, 403, 404, 413, 422),
    ),
)
async def put_agent(call: Call, path: AgentId, body: AgentChange) -> AgentState:
    """Presence (the agent themself, or a supervisor/admin), capacity and skills (supervisor or
    admin)."""
    hub, principal = call.hub, call.principal
    routing = routing_of(hub)
    now = hub.clock.now()
    async with hub.db.writer() as session:
        agent = await session.get(Agent, path.id)
        if agent is None:
            raise not_found("agent", path.id)
        manager = principal.role in (Role.ADMIN, Role.SUPERVISOR)
        if not manager and (path.id != principal.agent_id or body.model_fields_set - {"presence"}):
            raise forbidden("change other agents or their capacity and skills")
        change = Availability(body.presence, body.capacity, body.skills)
        await set_availability(session, routing.monitor, agent, change, now)
        await session.commit()
        await session.refresh(agent)
        answer = AgentState.model_validate(agent)
    hub.dispatcher.wake()
    return answer


@endpoint(
    "GET",
    "/api/v1/routing/sla/events",
    Doc(
        TAG,
        "Recent SLA warnings or breaches, newest first (supervisors and admins)",
        "listSlaEvents",
        ok={200: "The events"},
        errors=(400, 401, 403, 422),
    ),
)
async def sla_events(call: Call, query: SlaQuery) -> SlaEvents:
    require(call.principal, (Role.ADMIN, Role.SUPERVISOR), "read SLA reports")
    async with call.hub.db.reader() as session:
        rows = (
            await session.scalars(
                select(SlaEvent)
                .where(SlaEvent.kind == query.kind)
                .order_by(SlaEvent.occurred_at.desc(), SlaEvent.id.desc())
                .limit(query.limit)
            )
        ).all()
    summary: dict[str, int] = {}
    for event in rows:
        summary[event.metric] = summary.get(event.metric, 0) + 1
    return SlaEvents(items=[shapes.SlaEvent.model_validate(e) for e in rows], by_metric=summary)


@endpoint(
    "GET",
    "/api/v1/routing/notices",
    Doc(
        TAG,
        "The caller's notices (admins also see those for every admin), newest 200",
        "listNotices",
        ok={200: "The notices"},
        errors=(401,),
    ),
)
async def notices(call: Call) -> Notices:
    async with call.hub.db.reader() as session:
        found = await notices_of(session, call.principal)
    return Notices(items=[shapes.Notice.model_validate(n) for n in found])


ENDPOINTS: tuple[Endpoint, ...] = (get_rules, put_rules, dry_run, put_agent, sla_events, notices)

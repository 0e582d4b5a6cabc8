"""Routing rules one at a time for the admin console (admins): add, edit (also enable or
disable), move, delete, each checked so that a rule that cannot match is refused with the
reason, and a dry run for a pasted or a past message."""

from __future__ import annotations

from hub.admin import routing_rules as service
from hub.admin import texts
from hub.assembly import Hub
from hub.config.settings import RoutingRule
from hub.core.errors import ApiError, rules_invalid
from hub.routing.rules_store import RulesInvalid
from hub.web.api.admin_settings import ADMINS
from hub.web.api.edge import Call, Doc, Endpoint, endpoint
from hub.web.api.models.admin_config import (
    AdminDryRun,
    DryRunAnswer,
    DryRunStep,
    RuleBody,
    RuleMove,
    RuleName,
)
from hub.web.api.models.routing import Ruleset

TAG = "Admin"
ERRORS = (400, 401, 403, 404, 413, 422)


def _refused(exc: RulesInvalid) -> ApiError:
    """A problem with the one rule in the body names ``rule.<field>``."""
    parts = exc.where.split(".")
    where = ".".join(["rule", *parts[2:]]) if parts[0] == "rules" and len(parts) > 1 else exc.where
    return rules_invalid(where, exc.problem)


async def _change(call: Call, edit: service.Edit, action: str, target: str) -> Ruleset:
    hub: Hub = call.hub
    assert hub.routing is not None
    store = hub.routing.engine.rules
    try:
        async with hub.db.writer() as session:
            version, rules = await service.change_rules(
                session,
                store,
                edit,
                call.principal.agent_id,
                hub.clock.now(),
                action=action,
                target=target,
            )
            await session.commit()
    except RulesInvalid as exc:
        raise _refused(exc) from None
    return Ruleset(version=version, source="api", rules=rules)


def _parsed(call: Call, body: RuleBody, at: int) -> RoutingRule:
    try:
        return service.parse_one(call.hub.settings, body.rule, at)
    except RulesInvalid as exc:
        raise _refused(exc) from None


@endpoint(
    "POST",
    "/api/v1/admin/routing/rules",
    Doc(
        TAG,
        "Add a routing rule at the end of the list",
        "addRoutingRule",
        requires=ADMINS,
        ok={200: "The rules now in force"},
        errors=ERRORS,
    ),
)
async def add_rule(call: Call, body: RuleBody) -> Ruleset:
    rule = _parsed(call, body, 0)
    return await _change(
        call, lambda rules: service.with_rule(rules, rule, None), "create", rule.name
    )


@endpoint(
    "PUT",
    "/api/v1/admin/routing/rules/{name}",
    Doc(
        TAG,
        "Replace one routing rule (also to enable or disable it)",
        "putRoutingRule",
        requires=ADMINS,
        ok={200: "The rules now in force"},
        errors=ERRORS,
    ),
)
async def put_rule(call: Call, path: RuleName, body: RuleBody) -> Ruleset:
    rule = _parsed(call, body, 0)
    return await _change(
        call, lambda rules: service.with_rule(rules, rule, path.name), "edit", rule.name
    )


@endpoint(
    "POST",
    "/api/v1/admin/routing/rules/{name}/move",
    Doc(
        TAG,
        "Move a routing rule to another place in the order",
        "moveRoutingRule",
        requires=ADMINS,
        ok={200: "The rules now in force"},
        errors=ERRORS,
    ),
)
async def move_rule(call: Call, path: RuleName, body: RuleMove) -> Ruleset:
    return await _change(
        call, lambda rules: service.moved(rules, path.name, body.position - 1), "move", path.name
    )


@endpoint(
    "DELETE",
    "/api/v1/admin/routing/rules/{name}",
    Doc(
        TAG,
        "Delete a routing rule",
        "deleteRoutingRule",
        requires=ADMINS,
        ok={200: "The rules now in force"},
        errors=(401, 403, 404, 422),
    ),
)
async def delete_rule(call: Call, path: RuleName) -> Ruleset:
    return await _change(call, lambda rules: service.without(rules, path.name), "delete", path.name)


async def dry_run_for(
    hub: Hub, channel: str | None, sender: str, subject: str, text: str, message_id: int | None
) -> service.DryRunResult:
    """Raises RulesInvalid naming the field at fault."""
    assert hub.routing is not None
    engine = hub.routing.engine
    inside = engine.hours.is_open(hub.clock.now())
    async with hub.db.reader() as session:
        if message_id is not None:
            facts = await service.past_facts(session, hub.settings, message_id, inside)
        elif not (subject or text).strip():
            raise RulesInvalid("text", texts.GIVE_MESSAGE)
        else:
            facts = await service.pasted_facts(
                session, hub.settings, channel or "", sender, subject, text, inside
            )
        _, ruleset = await engine.rules.current(session)
    return service.dry_run(ruleset, facts)


@endpoint(
    "POST",
    "/api/v1/admin/routing/dry-run",
    Doc(
        TAG,
        "Which rule would fire for a pasted message or a past message id",
        "adminDryRun",
        description="Give channel and text (from and subject optional) or message_id. "
        "Nothing is stored.",
        requires=ADMINS,
        ok={200: "The decision"},
        errors=(400, 401, 403, 413, 422),
    ),
)
async def admin_dry_run(call: Call, body: AdminDryRun) -> DryRunAnswer:
    try:
        result = await dry_run_for(
            call.hub, body.channel, body.sender, body.subject, body.text, body.message_id
        )
    except RulesInvalid as exc:
        raise rules_invalid(exc.where, exc.problem) from None
    return answer(result)


def answer(result: service.DryRunResult) -> DryRunAnswer:
    actions = result.actions
    return DryRunAnswer(
        rule=actions.rule,
        position=None if actions.index is None else actions.index + 1,
        team=actions.team,
        priority=actions.priority,
        tags=list(actions.tags),
        bot=actions.bot,
        spam=actions.spam,
        inside_business_hours=result.facts.inside_hours,
        trace=[
            DryRunStep(name=step["name"], matched=step["matched"], failed=step.get("failed", ""))
            for step in result.trace
        ],
    )


ENDPOINTS: tuple[Endpoint, ...] = (add_rule, put_rule, move_rule, delete_rule, admin_dry_run)

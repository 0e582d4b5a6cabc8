"""Routing rules as the admin console edits them: one rule at a time (create, edit, move,
disable, delete) on top of the rule store (hub/routing/rules_store.py), each change checked so
that no rule that cannot match is saved (no condition, an unknown channel or team), audited in
area "routing", and a dry run for a pasted or a past message."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.admin import texts
from hub.config.settings import RoutingRule, Settings
from hub.core.audit import record_change
from hub.db.models import Customer, Direction, Identity, Message, Team
from hub.routing.rules import Actions, Facts, RuleSet
from hub.routing.rules_store import RulesInvalid, RuleStore, parse_rules, rules_json

CONDITIONS = (
    "channels",
    "channel_kinds",
    "recipients",
    "keywords",
    "regex",
    "intents",
    "tiers",
    "tags",
    "attributes",
    "languages",
    "business_hours",
    "customer",
    "has_attachment",
)


def conditions_of(rule: RoutingRule) -> list[str]:
    """The conditions a rule sets (the fields that are not at their "any" value)."""
    return [name for name in CONDITIONS if getattr(rule, name) not in ((), {}, None)]


async def team_slugs(session: AsyncSession) -> set[str]:
    return set((await session.scalars(select(Team.slug))).all())


def check_rules(rules: Sequence[RoutingRule], teams: set[str]) -> None:
    """Refuse a list holding a rule that cannot match; raises ``RulesInvalid`` naming the field."""
    for index, rule in enumerate(rules):
        if not conditions_of(rule):
            raise RulesInvalid(f"rules.{index}", texts.NO_CONDITION)
        if rule.team and rule.team not in teams:
            raise RulesInvalid(f"rules.{index}.team", texts.UNKNOWN_TEAM.format(team=rule.team))


async def save_rules(
    session: AsyncSession,
    store: RuleStore,
    rules: tuple[RoutingRule, ...],
    actor_id: int,
    now: datetime,
    *,
    action: str = "replace",
    target: str = "rules",
) -> int:
    """Check and store the whole list (in the caller's transaction), audited old -> new."""
    check_rules(rules, await team_slugs(session))
    _, ruleset = await store.current(session)
    old = rules_json(ruleset.rules)
    version = await store.save(session, rules, actor_id, now)
    await record_change(
        session,
        actor_id=actor_id,
        area="routing",
        action=action,
        target=target,
        old=_changed(old, rules_json(rules), target),
        new=_changed(rules_json(rules), old, target),
        at=now,
    )
    return version


def _changed(mine: list[dict[str, Any]], other: list[dict[str, Any]], target: str) -> Any:
    """For one rule's change, that rule (and its place) only; for a whole list, the list."""
    if target == "rules":
        return mine
    for index, rule in enumerate(mine):
        if rule["name"] == target:
            return {"position": index + 1, **rule}
    return None


def _index(rules: Sequence[RoutingRule], name: str) -> int:
    for index, rule in enumerate(rules):
        if rule.name == name:
            return index
    raise RulesInvalid("name", texts.NO_SUCH_RULE.format(name=name))


def parse_one(settings: Settings, raw: Any, at: int) -> RoutingRule:
    """One rule from a form or body, checked as the list's entry ``at``."""
    try:
        return parse_rules(settings, [raw])[0]
    except RulesInvalid as exc:
        where = exc.where.replace("rules.0", f"rules.{at}", 1)
        raise RulesInvalid(where, exc.problem) from None


def with_rule(
    rules: tuple[RoutingRule, ...], rule: RoutingRule, replacing: str | None
) -> tuple[RoutingRule, ...]:
    """The list with ``rule`` added at the end, or in place of the rule named ``replacing``."""
    if replacing is None:
        if any(r.name == rule.name for r in rules):
            raise RulesInvalid("name", f"rule name {rule.name!r} is used twice")
        return (*rules, rule)
    index = _index(rules, replacing)
    if any(r.name == rule.name for i, r in enumerate(rules) if i != index):
        raise RulesInvalid("name", f"rule name {rule.name!r} is used twice")
    return (*rules[:index], rule, *rules[index + 1 :])


def moved(rules: tuple[RoutingRule, ...], name: str, to: int) -> tuple[RoutingRule, ...]:
    """The list with the named rule at position ``to`` (0-based, clamped)."""
    index = _index(rules, name)
    rest = [r for i, r in enumerate(rules) if i != index]
    to = max(0, min(to, len(rest)))
    return (*rest[:to], rules[index], *rest[to:])


def toggled(rules: tuple[RoutingRule, ...], name: str, enabled: bool) -> tuple[RoutingRule, ...]:
    index = _index(rules, name)
    rule = rules[index].model_copy(update={"enabled": enabled})
    return (*rules[:index], rule, *rules[index + 1 :])


def without(rules: tuple[RoutingRule, ...], name: str) -> tuple[RoutingRule, ...]:
    index = _index(rules, name)
    return (*rules[:index], *rules[index + 1 :])


@dataclass(frozen=True, slots=True)
class DryRunResult:
    facts: Facts
    actions: Actions
    trace: list[dict[str, Any]]


async def pasted_facts(
    session: AsyncSession,
    settings: Settings,
    channel: str,
    sender: str,
    subject: str,
    text: str,
    inside_hours: bool,
) -> Facts:
    """Facts of a message pasted by an admin; a sender we know brings their customer's tier,
    tags, attributes and language."""
    config = settings.channels.get(channel)
    if config is None:
        raise RulesInvalid("channel", texts.UNKNOWN_CHANNEL.format(name=channel))
    address = str(getattr(config, "address", "") or "").lower()
    customer = None
    if sender.strip():
        customer = await session.scalar(
            select(Customer)
            .join(Identity, Identity.customer_id == Customer.id)
            .where(Identity.address == sender.strip().lower())
            .limit(1)
        )
    return _facts(
        channel, config.kind, f"{subject}\n{text}", address, customer, inside_hours, False, False
    )


def _facts(
    channel: str,
    kind: str,
    text: str,
    address: str,
    customer: Customer | None,
    inside_hours: bool,
    returning: bool,
    attachment: bool,
) -> Facts:
    attributes = (customer.attributes if customer else None) or {}
    return Facts(
        channel=channel,
        channel_kind=kind,
        text=text,
        recipients=frozenset({address} - {""}),
        tier=customer.tier if customer else "standard",
        tags=frozenset(customer.tags or ()) if customer else frozenset(),
        attributes={k: str(v) for k, v in attributes.items()},
        language=str((customer.locale if customer else None) or "en").split("-")[0].lower(),
        inside_hours=inside_hours,
        returning=returning,
        has_attachment=attachment,
    )


async def past_facts(
    session: AsyncSession, settings: Settings, message_id: int, inside_hours: bool
) -> Facts:
    """Facts of a stored customer message, as routing saw them (customer as they are now)."""
    message = await session.get(Message, message_id)
    if message is None or message.direction != Direction.INBOUND:
        raise RulesInvalid("message_id", texts.NO_SUCH_MESSAGE.format(ident=message_id))
    customer = await session.get(Customer, message.customer_id)
    config = settings.channels.get(message.channel)
    earlier = await session.scalar(
        select(Message.id)
        .where(
            Message.customer_id == message.customer_id,
            Message.conversation_id != message.conversation_id,
            Message.id < message.id,
        )
        .limit(1)
    )
    return _facts(
        message.channel,
        config.kind if config else "",
        f"{message.subject or ''}\n{message.text}",
        str(getattr(config, "address", "") or "").lower(),
        customer,
        inside_hours,
        earlier is not None,
        bool(message.attachments),
    )


def dry_run(ruleset: RuleSet, facts: Facts) -> DryRunResult:
    actions, trace = ruleset.explain(facts)
    return DryRunResult(facts, actions, trace)


Edit = Callable[[tuple[RoutingRule, ...]], tuple[RoutingRule, ...]]


async def change_rules(
    session: AsyncSession,
    store: RuleStore,
    edit: Edit,
    actor_id: int,
    now: datetime,
    *,
    action: str,
    target: str,
) -> tuple[int, tuple[RoutingRule, ...]]:
    """Apply ``edit`` to the rules in force and save the result (checked and audited)."""
    _, ruleset = await store.current(session)
    rules = edit(ruleset.rules)
    version = await save_rules(session, store, rules, actor_id, now, action=action, target=target)
    return version, rules

"""Where the routing rules live: the config file's ``[[routing.rules]]`` until an admin saves a
rule list through the API, then the saved list (versioned; every process recompiles when the
version moves).

The version is read once per transaction (an ingest batch), in one statement with the newest
team's id (teams are only ever added, so routing knows a team it did not find is still missing
while that id stays the same) and the saved templates' counter (the acknowledgement's template
rows are read again only when it moved)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.settings import RoutingRule, Settings
from hub.core.staff import ensure_team
from hub.core.transaction_memo import memo
from hub.db.bots_models import Bot
from hub.db.models import Counter, Team
from hub.db.routing_models import RoutingRuleset
from hub.outbound.templates import GENERATION_COUNTER, note_generation
from hub.routing.rules import RuleSet

RULESET_ID = 1


class RulesInvalid(ValueError):
    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def parse_rules(settings: Settings, raw: Any) -> tuple[RoutingRule, ...]:
    """Validate a rule list as the API received it; raises ``RulesInvalid`` naming the field."""
    if not isinstance(raw, list):
        raise RulesInvalid("rules", "must be a list of rule objects")
    rules: list[RoutingRule] = []
    bots = {"faq", *settings.bots.connectors}
    for index, item in enumerate(raw):
        try:
            rule = RoutingRule.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in (index, *first["loc"]))
            raise RulesInvalid(f"rules.{where}", first["msg"]) from None
        unknown = [c for c in rule.channels if c not in settings.channels]
        if unknown:
            raise RulesInvalid(f"rules.{index}.channels", f"unknown channel {unknown[0]!r}")
        if rule.bot and rule.bot not in bots:
            raise RulesInvalid(f"rules.{index}.bot", f"no bot named {rule.bot!r}")
        rules.append(rule)
    names = [rule.name for rule in rules]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RulesInvalid("rules", f"rule name {duplicates[0]!r} is used twice")
    return tuple(rules)


def rules_json(rules: Sequence[RoutingRule]) -> list[dict[str, Any]]:
    return [rule.model_dump(mode="json", exclude_defaults=True) for rule in rules]


class RuleStore:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._version = 0
        self._ruleset = RuleSet(settings.routing, settings.routing.rules)

    async def current(self, session: AsyncSession) -> tuple[int, RuleSet]:
        """The rules in force and their version (0: the config file's); the version is read
        once per transaction (an ingest batch)."""
        version, _ = await versions(session)
        if version is not None and version != self._version:
            row = await session.get(RoutingRuleset, RULESET_ID)
            assert row is not None
            await session.refresh(row)
            rules = parse_rules(self.settings, row.rules)
            self._ruleset = RuleSet(self.settings.routing, rules)
            self._version = row.version
        if self._ruleset.settings is not self.settings.routing:  # an admin changed [routing]
            rules = self._ruleset.rules if self._version else self.settings.routing.rules
            self._ruleset = RuleSet(self.settings.routing, rules)
        return self._version, self._ruleset

    async def save(
        self,
        session: AsyncSession,
        rules: tuple[RoutingRule, ...],
        agent_id: int,
        now: datetime,
    ) -> int:
        """Store a validated rule list; creates the teams it names; returns the new version."""
        for slug in sorted({rule.team for rule in rules if rule.team}):
            await ensure_team(session, slug)
        body = rules_json(rules)
        version = await session.scalar(
            update(RoutingRuleset)
            .where(RoutingRuleset.id == RULESET_ID)
            .values(
                version=RoutingRuleset.version + 1, rules=body, updated_by=agent_id, updated_at=now
            )
            .returning(RoutingRuleset.version)
        )
        if version is None:
            session.add(
                RoutingRuleset(
                    id=RULESET_ID, version=1, rules=body, updated_by=agent_id, updated_at=now
                )
            )
            await session.flush()
            version = 1
        memo(session).pop(_VERSIONS, None)
        return int(version)


_VERSIONS = "routing_versions"
_BOTS = "bots_enabled"


async def versions(session: AsyncSession) -> tuple[int | None, int | None]:
    """The saved ruleset's version (None: the config file's rules) and the newest team's id
    (None: no team), read once per transaction; the templates' counter read with them is
    handed to the template renderer, and whether any bot is enabled kept for ``bots_enabled``."""
    remembered = memo(session)
    found: tuple[int | None, int | None] | None = remembered.get(_VERSIONS)
    if found is None:
        row = (
            await session.execute(
                select(
                    select(RoutingRuleset.version)
                    .where(RoutingRuleset.id == RULESET_ID)
                    .scalar_subquery(),
                    select(func.max(Team.id)).scalar_subquery(),
                    select(Counter.value)
                    .where(Counter.name == GENERATION_COUNTER)
                    .scalar_subquery(),
                    select(func.count(Bot.id)).where(Bot.enabled.is_(True)).scalar_subquery(),
                )
            )
        ).one()
        found = remembered[_VERSIONS] = (row[0], row[1])
        note_generation(session, row[2])
        remembered[_BOTS] = row[3] > 0
    return found


async def bots_enabled(session: AsyncSession) -> bool:
    """Whether any bot is enabled, read with the versions (once per transaction): with none,
    a new conversation need not read the bots to find one that takes it."""
    await versions(session)
    enabled: bool = memo(session)[_BOTS]
    return enabled

"""The rule engine: routing rules compiled once (regular expressions, keyword alternations,
intent phrases) and evaluated in order against one message's facts; the first rule whose every
given condition holds decides. ``explain`` says, rule by rule, which condition failed (dry run)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from hub.config.settings import Priority, RoutingRule, RoutingSettings


@dataclass(frozen=True, slots=True)
class Facts:
    """What rules look at, gathered from the message, its channel and its customer."""

    channel: str
    channel_kind: str
    text: str
    recipients: frozenset[str] = frozenset()
    tier: str = "standard"
    tags: frozenset[str] = frozenset()
    attributes: Mapping[str, str] = field(default_factory=dict)
    language: str = "en"
    inside_hours: bool = True
    returning: bool = False
    has_attachment: bool = False


@dataclass(frozen=True, slots=True)
class Actions:
    rule: str | None
    index: int | None
    team: str
    priority: Priority
    tags: tuple[str, ...] = ()
    open_ticket: bool = True
    category: str = ""
    assign: str = "round_robin"
    skills: tuple[str, ...] = ()
    template: str | None = None
    bot: str | None = None
    spam: bool = False
    intent_score: float | None = None


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


class Intents:
    """Fuzzy intent scores for one message, computed once per distinct phrase."""

    def __init__(self, text: str) -> None:
        self.text = normalize(text)
        self._scores: dict[str, float] = {}

    def score(self, phrase: str) -> float:
        score = self._scores.get(phrase)
        if score is None:
            # A message shorter than the phrase is compared whole, so "order" is no "cancel my
            # order"; a longer one is searched for the best-aligned part.
            scorer = fuzz.partial_ratio if len(self.text) >= len(phrase) else fuzz.ratio
            score = self._scores[phrase] = scorer(phrase, self.text)
        return score

    def best(self, phrases: tuple[str, ...]) -> float:
        return max((self.score(p) for p in phrases), default=0.0)


Check = Callable[[Facts, Intents], bool]


class CompiledRule:
    def __init__(self, index: int, rule: RoutingRule, settings: RoutingSettings) -> None:
        self.index = index
        self.rule = rule
        self.threshold = rule.intent_threshold or settings.intent_threshold
        self.intents = tuple(normalize(p) for p in rule.intents)
        words = "|".join(re.escape(k.lower()) for k in rule.keywords)
        # Whole words, with lookarounds (not \b) so keywords like "c++" or "#vip" match too.
        keywords = re.compile(rf"(?<!\w)(?:{words})(?!\w)", re.I) if rule.keywords else None
        patterns = [re.compile(p, re.IGNORECASE) for p in rule.regex]
        recipients = {r.lower() for r in rule.recipients}
        languages = {lang.lower().split("-")[0] for lang in rule.languages}
        self.checks: list[tuple[str, Check]] = []
        add = self.checks.append
        if not rule.enabled:
            add(("enabled", lambda _f, _i: False))
        if rule.channels:
            add(("channels", lambda f, _i: f.channel in rule.channels))
        if rule.channel_kinds:
            add(("channel_kinds", lambda f, _i: f.channel_kind in rule.channel_kinds))
        if recipients:
            add(("recipients", lambda f, _i: bool(recipients & f.recipients)))
        if keywords is not None:
            add(("keywords", lambda f, _i: keywords.search(f.text) is not None))
        if patterns:
            add(("regex", lambda f, _i: any(p.search(f.text) for p in patterns)))
        if rule.tiers:
            add(("tiers", lambda f, _i: f.tier in rule.tiers))
        if rule.tags:
            add(("tags", lambda f, _i: bool(f.tags.intersection(rule.tags))))
        if rule.attributes:
            attrs = rule.attributes
            add(
                (
                    "attributes",
                    lambda f, _i: all(f.attributes.get(k) == v for k, v in attrs.items()),
                )
            )
        if languages:
            add(("languages", lambda f, _i: f.language in languages))
        if rule.business_hours:
            inside = rule.business_hours == "inside"
            add(("business_hours", lambda f, _i: f.inside_hours == inside))
        if rule.customer:
            returning = rule.customer == "returning"
            add(("customer", lambda f, _i: f.returning == returning))
        if rule.has_attachment is not None:
            wanted = rule.has_attachment
            add(("has_attachment", lambda f, _i: f.has_attachment == wanted))
        if self.intents:  # last: the most expensive check
            add(("intents", lambda _f, i: i.best(self.intents) >= self.threshold))

    def first_failure(self, facts: Facts, intents: Intents) -> str | None:
        for name, check in self.checks:
            if not check(facts, intents):
                return name
        return None


CURSOR_STRATEGIES = ("round_robin", "sticky")  # the strategies that move a team's cursor


class RuleSet:
    def __init__(self, settings: RoutingSettings, rules: tuple[RoutingRule, ...]) -> None:
        self.settings = settings
        self.rules = rules
        self.compiled = [CompiledRule(i, rule, settings) for i, rule in enumerate(rules)]
        # The teams whose round-robin cursor a decision of this ruleset may move.
        moving = [r for r in rules if not r.spam and self._strategy(r) in CURSOR_STRATEGIES]
        self.cursor_teams = frozenset(r.team or settings.default_team for r in moving) | (
            {settings.default_team} if self._strategy(None) in CURSOR_STRATEGIES else set()
        )

    def decide(self, facts: Facts) -> Actions:
        intents = Intents(facts.text)
        for compiled in self.compiled:
            if compiled.first_failure(facts, intents) is None:
                return self._actions(compiled, intents)
        return self._default()

    def explain(self, facts: Facts) -> tuple[Actions, list[dict[str, Any]]]:
        """The decision and, for each rule up to the one that matched, why it did or did not."""
        intents = Intents(facts.text)
        trace: list[dict[str, Any]] = []
        for compiled in self.compiled:
            failed = compiled.first_failure(facts, intents)
            entry: dict[str, Any] = {"index": compiled.index, "name": compiled.rule.name}
            entry["matched"] = failed is None
            if failed is not None:
                entry["failed"] = failed
            if compiled.intents:
                entry["intent_score"] = round(intents.best(compiled.intents), 1)
            trace.append(entry)
            if failed is None:
                return self._actions(compiled, intents), trace
        return self._default(), trace

    def _default(self) -> Actions:
        s = self.settings
        return Actions(None, None, s.default_team, s.default_priority, assign=self._strategy(None))

    def _strategy(self, rule: RoutingRule | None) -> str:
        if rule is not None and rule.assign:
            return rule.assign
        if rule is not None and rule.skills:
            return "skills"
        return self.settings.assignment.default_strategy

    def _actions(self, compiled: CompiledRule, intents: Intents) -> Actions:
        rule = compiled.rule
        return Actions(
            rule=rule.name,
            index=compiled.index,
            team=rule.team or self.settings.default_team,
            priority=rule.priority or self.settings.default_priority,
            tags=rule.add_tags,
            open_ticket=rule.open_ticket and not rule.spam,
            category=rule.category,
            assign="none" if rule.spam else self._strategy(rule),
            skills=rule.skills,
            template=rule.template,
            bot=rule.bot,
            spam=rule.spam,
            intent_score=round(intents.best(compiled.intents), 1) if compiled.intents else None,
        )

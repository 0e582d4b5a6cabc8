"""The rule engine and business-hours calendars on their own: every condition kind, fuzzy
intents with typos, and open-time arithmetic across weekends, holidays and a DST change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hub.config.routing import CalendarSettings
from hub.config.settings import RoutingRule, RoutingSettings
from hub.core.calendar import BusinessCalendar
from hub.routing.rules import Facts, RuleSet


def ruleset(*rules: dict[str, object]) -> RuleSet:
    parsed = tuple(RoutingRule.model_validate(r) for r in rules)
    return RuleSet(RoutingSettings(rules=parsed), parsed)


def facts(text: str = "hello", **values: object) -> Facts:
    base: dict[str, object] = {"channel": "mail", "channel_kind": "email", "text": text}
    base.update(values)
    return Facts(**base)  # type: ignore[arg-type]


def test_each_condition_kind() -> None:
    cases: list[tuple[dict[str, object], Facts, Facts]] = [
        ({"channel_kinds": ["email"]}, facts(), facts(channel_kind="api")),
        ({"recipients": ["Sales@x.com"]}, facts(recipients=frozenset({"sales@x.com"})), facts()),
        ({"keywords": ["c++"]}, facts("help with C++ please"), facts("help with c")),
        ({"regex": [r"order #\d{4}"]}, facts("Order #1234 is late"), facts("order #12")),
        ({"tiers": ["gold"]}, facts(tier="gold"), facts()),
        ({"tags": ["vip"]}, facts(tags=frozenset({"vip", "x"})), facts()),
        ({"attributes": {"plan": "pro"}}, facts(attributes={"plan": "pro"}), facts()),
        ({"languages": ["de"]}, facts(language="de"), facts()),
        ({"business_hours": "outside"}, facts(inside_hours=False), facts()),
        ({"customer": "returning"}, facts(returning=True), facts()),
        ({"has_attachment": True}, facts(has_attachment=True), facts()),
        ({"intents": ["cancel my order"]}, facts("pls cancle my ordr thanks"), facts("order")),
    ]
    for condition, hit, miss in cases:
        rules = ruleset({"name": "r", "team": "t", **condition})
        assert rules.decide(hit).rule == "r", condition
        assert rules.decide(miss).rule is None, condition


def test_first_matching_rule_wins_and_defaults_apply() -> None:
    rules = ruleset(
        {"name": "a", "keywords": ["refund"], "team": "billing", "priority": "high"},
        {"name": "b", "keywords": ["refund", "invoice"], "team": "other"},
        {"name": "c", "skills": ["german"]},
    )
    assert (rules.decide(facts("refund")).rule, rules.decide(facts("refund")).team) == (
        "a",
        "billing",
    )
    assert rules.decide(facts("invoice")).rule == "b"
    skilled = rules.decide(facts("anything"))
    assert (skilled.rule, skilled.team, skilled.assign) == ("c", "support", "skills")


OFFICE = CalendarSettings(
    timezone="Europe/Berlin",
    hours={d: ("09:00-17:00",) for d in ("mon", "tue", "wed", "thu", "fri")},
    holidays=(date(2026, 4, 3),),  # Good Friday
)


def test_calendar_skips_weekends_and_holidays() -> None:
    calendar = BusinessCalendar(OFFICE)
    thursday = datetime(2026, 4, 2, 14, 0, tzinfo=UTC)  # 16:00 in Berlin (CEST)
    assert calendar.is_open(thursday)
    # One hour open on Thursday, Friday a holiday, then Monday from 09:00 Berlin.
    due = calendar.add(thursday, 3 * 3600)
    assert due == datetime(2026, 4, 6, 9, 0, tzinfo=UTC)
    assert calendar.open_seconds(thursday, due) == 3 * 3600
    assert not calendar.is_open(datetime(2026, 4, 3, 10, 0, tzinfo=UTC))


def test_calendar_across_daylight_saving_change() -> None:
    calendar = BusinessCalendar(OFFICE)
    friday = datetime(2026, 3, 27, 15, 0, tzinfo=UTC)  # 16:00 CET; clocks go forward Sunday
    due = calendar.add(friday, 2 * 3600)
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # Monday 10:00 CEST
    assert BusinessCalendar().add(friday, 60) == friday + timedelta(minutes=1)

"""SLA targets by customer tier: a higher tier (later in ``[crm] tiers``) never gets a worse
target than a lower one, in the shipped config and in any config the hub accepts."""

from __future__ import annotations

from pathlib import Path

from hub.config.settings import load_settings
from hub.core.sla import policy_for
from tests.conftest import CONFIG
from tests.hub.config.test_settings import BASE, error

PRIORITIES = ("low", "normal", "high", "urgent")


def test_shipped_config_never_serves_platinum_worse_than_standard() -> None:
    settings = load_settings(CONFIG, environ={})
    for priority in PRIORITIES:
        standard = policy_for(settings, priority, "standard")
        platinum = policy_for(settings, priority, "platinum")
        assert standard is not None and platinum is not None
        for metric in ("first_response_minutes", "resolution_minutes"):
            theirs, ours = getattr(standard, metric), getattr(platinum, metric)
            assert ours is not None and ours <= theirs, (priority, metric, ours, theirs)
        # business-hours counting is slower than the standard tier's round-the-clock one
        assert platinum.calendar is None or standard.calendar == platinum.calendar, priority


def test_a_higher_tier_with_a_slower_target_is_refused(tmp_path: Path) -> None:
    message = error(
        tmp_path,
        BASE
        + """
[[sla_policies]]
name = "premium"
tiers = ["platinum"]
first_response_minutes = 30
resolution_minutes = 480
""",
    )
    # the default [sla.urgent] answers a standard customer within 15 minutes
    assert "sla_policies.0" in message and "platinum" in message
    assert "first_response_minutes" in message and "urgent" in message


def test_a_higher_tier_counting_business_hours_only_is_refused(tmp_path: Path) -> None:
    message = error(
        tmp_path,
        BASE
        + """
[calendars.office]
[calendars.office.hours]
mon = ["09:00-17:00"]

[[sla_policies]]
name = "gold hours"
tiers = ["gold", "platinum"]
calendar = "office"
first_response_minutes = 10
resolution_minutes = 60
""",
    )
    assert "gold" in message and "calendar" in message and "sla_policies.0" in message


def test_tiers_served_in_order_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "relaydesk.toml"
    path.write_text(
        BASE
        + """
[[sla_policies]]
name = "premium urgent"
tiers = ["gold", "platinum"]
priorities = ["urgent"]
first_response_minutes = 10
resolution_minutes = 120

[[sla_policies]]
name = "premium"
tiers = ["gold", "platinum"]
first_response_minutes = 30
resolution_minutes = 480
""",
        encoding="utf-8",
    )
    settings = load_settings(path, environ={})
    assert [p.name for p in settings.sla_policies] == ["premium urgent", "premium"]


def test_shipped_config_warns_of_a_risk_only_after_a_conversation_opens() -> None:
    """A warning as long as the target would put every such conversation at risk the moment
    it opens: supervisors would learn to ignore the notices."""
    settings = load_settings(CONFIG, environ={})
    for priority in PRIORITIES:
        for tier in settings.crm.tiers:
            policy = policy_for(settings, priority, tier)
            assert policy is not None
            for metric in ("first_response_minutes", "next_response_minutes"):
                target = getattr(policy, metric)
                assert target is None or policy.warn_before_minutes < target, (
                    priority,
                    tier,
                    policy.name,
                    metric,
                )

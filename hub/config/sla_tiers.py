"""SLA targets by customer tier. ``[crm] tiers`` lists the tiers from the lowest to the highest;
a higher tier must never get a worse target than a lower one for the same priority: no more
minutes, no missing target, and no business-hours counting where the lower tier's clock runs
around the clock. ``tier_problems`` names the first such setting; ``first_policy`` is the one
rule for which policy serves a conversation (``hub.core.sla.policy_for`` uses it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hub.config.routing import SlaPolicy

METRICS = ("first_response_minutes", "next_response_minutes", "resolution_minutes")


class PlainTarget(Protocol):
    @property
    def first_response_minutes(self) -> int: ...

    @property
    def resolution_minutes(self) -> int: ...


def first_policy(policies: Sequence[SlaPolicy], priority: str, tier: str) -> int | None:
    """Index of the first policy for this priority and tier (None: the plain ``[sla]`` table)."""
    for index, policy in enumerate(policies):
        if (not policy.priorities or priority in policy.priorities) and (
            not policy.tiers or tier in policy.tiers
        ):
            return index
    return None


@dataclass(frozen=True, slots=True)
class _Served:
    key: str  # the settings table the targets come from
    minutes: dict[str, int | None]
    calendar: str | None


def _served(
    policies: Sequence[SlaPolicy], plain: Mapping[Any, PlainTarget], priority: str, tier: str
) -> _Served | None:
    index = first_policy(policies, priority, tier)
    if index is not None:
        policy = policies[index]
        minutes = {metric: getattr(policy, metric) for metric in METRICS}
        return _Served(f"sla_policies.{index}", minutes, policy.calendar)
    target = plain.get(priority)
    if target is None:
        return None
    minutes = {
        "first_response_minutes": target.first_response_minutes,
        "next_response_minutes": None,
        "resolution_minutes": target.resolution_minutes,
    }
    return _Served(f"sla.{priority}", minutes, None)


def _worse(lower: _Served, higher: _Served, metric: str) -> tuple[str, str] | None:
    """(the setting to change, why) when ``higher`` serves ``metric`` worse than ``lower``."""
    theirs, ours = lower.minutes[metric], higher.minutes[metric]
    if theirs is None:
        return None
    if ours is None:
        return metric, f"has no {metric} target while {{lower}} gets {theirs} minutes ({lower.key})"
    if ours > theirs:
        return metric, f"gets {ours} minutes, more than {{lower}} ({theirs} minutes, {lower.key})"
    if higher.calendar is not None and lower.calendar is None:
        return "calendar", (
            f"counts {metric} in business hours (calendar {higher.calendar!r}) while "
            f"{{lower}} counts around the clock ({lower.key})"
        )
    return None


def tier_problems(
    policies: Sequence[SlaPolicy],
    plain: Mapping[Any, PlainTarget],
    tiers: Sequence[str],
    priorities: Sequence[str],
) -> list[str]:
    """Each setting that serves a higher tier worse than a lower one (``key: problem``)."""
    problems: list[str] = []
    for priority in priorities:
        served = [(tier, _served(policies, plain, priority, tier)) for tier in tiers]
        for rank, (tier, higher) in enumerate(served):
            if higher is None:
                continue
            for lower_tier, lower in served[:rank]:
                if lower is None or lower.key == higher.key:
                    continue
                for metric in METRICS:
                    found = _worse(lower, higher, metric)
                    if found is None:
                        continue
                    setting, why = found
                    plain_next = higher.key.startswith("sla.") and setting == METRICS[1]
                    key = higher.key if plain_next else f"{higher.key}.{setting}"
                    problems.append(
                        f"{key}: tier {tier!r} "
                        + why.format(lower=f"the lower tier {lower_tier!r}")
                        + f" for {priority} conversations; a higher tier in crm.tiers "
                        "must not get a worse SLA target"
                    )
                    return problems
    return problems

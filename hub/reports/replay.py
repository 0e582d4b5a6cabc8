"""One conversation's history replayed into reporting facts, by the same definitions the live
recorder follows (docs/reports.md): what a rebuild writes. Pure: rows in, fact rows out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.db.models import DeliveryState, Direction
from hub.reports.record import Reports
from hub.reports.rollup import Slice

STATUS_EVENT = "Status changed to "
RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Event:
    """A message row as the replay reads it."""

    id: int
    direction: str
    author_agent_id: int | None
    automated: bool
    delivery_state: str
    created_at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Subject:
    """The conversation: its dimensions as they are now."""

    id: int
    channel: str
    team_id: int | None
    assignee_id: int | None
    tier: str
    tags: tuple[str, ...]
    calendar: str | None


@dataclass
class Replayed:
    facts: list[dict[str, Any]] = field(default_factory=list)
    messages: list[datetime] = field(default_factory=list)  # customer messages counted
    opened: datetime | None = None  # when the conversation was first opened by a customer
    cycle: int = 0
    opened_at: datetime | None = None
    resolutions: int = 0


def _fact(
    subject: Subject, dedupe: str, kind: str, started: datetime, **values: Any
) -> dict[str, Any]:
    return {
        "dedupe": dedupe,
        "kind": kind,
        "state": "pending",
        "conversation_id": subject.id,
        "message_id": None,
        "response_id": None,
        "metric": "",
        "outcome": "",
        "score": None,
        "started_at": started,
        "ended_at": None,
        "day": None,
        "calendar_seconds": None,
        "business_seconds": None,
        "channel": subject.channel,
        "team_id": subject.team_id,
        "agent_id": None,
        "tier": "",
        "tags": [],
        **values,
    }


def _done(
    reports: Reports,
    fact: dict[str, Any],
    where: Slice,
    at: datetime,
    durations: tuple[float, float] | None,
) -> None:
    fact.update(
        state="done",
        ended_at=at,
        day=reports.day(at),
        calendar_seconds=durations[0] if durations else None,
        business_seconds=durations[1] if durations else None,
        channel=where.channel,
        team_id=where.team_id,
        agent_id=where.agent_id,
        tier=where.tier,
        tags=list(where.tags),
    )


def _closes_itself(events: Sequence[Event], index: int) -> bool:
    """A customer message that resolved its conversation as it arrived (a survey answer,
    spam): the hub logged "resolved" with no agent at the same moment, right after it."""
    message = events[index]
    for later in events[index + 1 :]:
        if later.created_at != message.created_at:
            return False
        if (
            later.direction == Direction.EVENT
            and later.author_agent_id is None
            and later.text == STATUS_EVENT + RESOLVED
        ):
            return True
    return False


def replay(reports: Reports, subject: Subject, events: Sequence[Event]) -> Replayed:
    out = Replayed()
    status = "open"
    pending: list[dict[str, Any]] = []

    def where(agent_id: int | None) -> Slice:
        return Slice(subject.channel, subject.team_id, agent_id, subject.tier, subject.tags)

    for index, event in enumerate(events):
        at = event.created_at
        if event.direction == Direction.EVENT and event.text.startswith(STATUS_EVENT):
            new = event.text.removeprefix(STATUS_EVENT)
            if new == RESOLVED and status != RESOLVED and out.opened_at is not None:
                out.resolutions += 1
                agent = event.author_agent_id or subject.assignee_id
                fact = _fact(
                    subject, f"res:{subject.id}:{out.resolutions}", "resolution", out.opened_at
                )
                durations = reports.durations(subject.calendar, out.opened_at, at)
                _done(reports, fact, where(agent), at, durations)
                out.facts.append(fact)
                out.opened_at = None
                for waiting in pending:
                    waiting["state"] = "dropped"
                pending = []
            elif (  # an agent reopened it (a customer's message reopens it below)
                status == RESOLVED
                and new != RESOLVED
                and event.author_agent_id is not None
                and out.opened_at is None
                and out.cycle > 0
            ):
                out.cycle += 1
                out.opened_at = at
            status = new
        elif event.direction == Direction.INBOUND and not event.automated:
            if _closes_itself(events, index):
                continue
            if out.opened_at is None:
                out.cycle += 1
                out.opened_at = at
                if out.cycle == 1:
                    out.opened = at
                first = _fact(subject, f"fr:{subject.id}:{out.cycle}", "first_response", at)
                pending.append(first)
                out.facts.append(first)
            reply = _fact(subject, f"reply:{event.id}", "reply", at, message_id=event.id)
            pending.append(reply)
            out.facts.append(reply)
            out.messages.append(at)
        elif (
            event.direction == Direction.OUTBOUND
            and event.author_agent_id is not None
            and not event.automated
            and event.delivery_state == DeliveryState.SENT
        ):
            agent_slice = where(event.author_agent_id)
            still = []
            for waiting in pending:
                if waiting["started_at"] <= at:
                    durations = reports.durations(subject.calendar, waiting["started_at"], at)
                    _done(reports, waiting, agent_slice, at, durations)
                    waiting["response_id"] = event.id
                else:
                    still.append(waiting)
            pending = still
            response = _fact(subject, f"resp:{event.id}", "response", at, response_id=event.id)
            _done(reports, response, agent_slice, at, None)
            out.facts.append(response)
    return out

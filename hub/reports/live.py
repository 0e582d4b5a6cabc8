"""The live operations view's figures: per team and per channel, how many conversations are
open, unassigned, waiting for the customer and waiting for us, the longest current wait, and
how many are at risk of breaching their SLA or have breached it; the same conditions select the
conversations behind each number (``live_conversations``). Definitions (docs/live.md):

- open: not resolved (open, pending or snoozed);
- waiting for us: open, the customer wrote, and no agent has replied since (a bot's or an
  automated message and a failed delivery are not a reply); the wait runs from the customer's
  last message;
- waiting for the customer: pending, or open with an agent's reply after the customer's last
  message;
- SLA breached: the next SLA deadline (``sla_due_at``) has passed; at risk: it falls within
  ``live.sla_risk_minutes``. Paused clocks (pending, snoozed) have no deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVarTuple

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.live import LiveSettings
from hub.core.authz import Principal
from hub.core.conversations import ACTIVE
from hub.db.models import (
    Conversation,
    ConversationStatus,
    Role,
    Team,
)
from hub.reports.live_texts import FIGURES, NO_TEAM, live_forbidden, team_out_of_scope

NO_TEAM_KEY = "none"
Row = TypeVarTuple("Row")


@dataclass(frozen=True, slots=True)
class Scope:
    """Which conversations and agents a viewer of the live view sees: ``team_ids`` None is
    every team (and conversations without one)."""

    team_ids: frozenset[int] | None

    def allows_team(self, team_id: int | None) -> bool:
        if self.team_ids is None:
            return True
        return team_id is not None and team_id in self.team_ids


def live_scope(principal: Principal, settings: LiveSettings) -> Scope:
    """Admins see everything; supervisors every team, or (``supervisor_scope = "teams"``) the
    teams they belong to; nobody else may open the view."""
    if principal.role == Role.ADMIN:
        return Scope(None)
    if principal.role != Role.SUPERVISOR:
        raise live_forbidden()
    if settings.supervisor_scope == "all":
        return Scope(None)
    return Scope(principal.team_ids)


@dataclass(frozen=True, slots=True)
class Figures:
    """One line of the view: a team (``key`` its id, or "none"), a channel, or the total."""

    key: str
    label: str
    open: int = 0
    unassigned: int = 0
    waiting_us: int = 0
    waiting_customer: int = 0
    sla_at_risk: int = 0
    sla_breached: int = 0
    waiting_since: datetime | None = None  # the customer's message waiting longest for us

    def longest_wait(self, now: datetime) -> timedelta | None:
        return None if self.waiting_since is None else max(timedelta(0), now - self.waiting_since)

    def count(self, figure: str) -> int:
        value: int = getattr(self, figure)
        return value


CUSTOMER, AGENT = "customer", "agent"  # conversations.last_party (migration 0021)


def conditions(now: datetime, risk: timedelta) -> dict[str, ColumnElement[bool]]:
    """Each figure's condition over the conversation's columns, for conversations already
    known to be open. Who wrote last is the stored ``last_party``: the author of the newest
    message that counts (kept by triggers on messages: bots, automated messages, notes and
    failed deliveries do not count), so every figure is read from ``ix_conversations_live``."""
    status, party, due = Conversation.status, Conversation.last_party, Conversation.sla_due_at
    return {
        "open": true(),
        "unassigned": Conversation.assignee_id.is_(None),
        "waiting_us": and_(status == ConversationStatus.OPEN, party == CUSTOMER),
        "waiting_customer": or_(
            status == ConversationStatus.PENDING,
            and_(status == ConversationStatus.OPEN, party == AGENT),
        ),
        "sla_at_risk": and_(due.is_not(None), due >= now, due < now + risk),
        "sla_breached": and_(due.is_not(None), due < now),
    }


def _scoped(query: Select[*Row], scope: Scope) -> Select[*Row]:
    if scope.team_ids is None:
        return query
    if not scope.team_ids:
        return query.where(false())
    return query.where(Conversation.team_id.in_(scope.team_ids))


def _waiting(status: str, party: str | None) -> tuple[bool, bool]:
    """(waiting for us, waiting for the customer) for an open conversation: ``conditions``
    for one group of the figures query."""
    is_open = status == ConversationStatus.OPEN
    return (
        is_open and party == CUSTOMER,
        status == ConversationStatus.PENDING or (is_open and party == AGENT),
    )


async def _by_team_and_channel(
    session: AsyncSession, scope: Scope, now: datetime, risk: timedelta
) -> list[Figures]:
    """Lines per (team, channel) pair with open work, ``key`` the team's, ``label`` the
    channel, in one pass along ``ix_conversations_live`` (the table itself is not read):
    grouped in the index's order (status, team, channel, who wrote last), so the database
    counts as it walks and sorts nothing; the groups' status and last party give the
    waiting figures."""
    met = conditions(now, risk)
    sums = [
        func.sum(case((met[name], 1), else_=0)).label(name)
        for name in ("unassigned", "sla_at_risk", "sla_breached")
    ]
    groups = (Conversation.status, Conversation.team_id, Conversation.channel)
    query = (
        select(
            *groups,
            Conversation.last_party,
            func.count().label("open"),
            *sums,
            func.min(Conversation.last_inbound_at).label("waiting_since"),
        )
        .where(Conversation.status.in_(ACTIVE))
        .group_by(*groups, Conversation.last_party)
    )
    found = []
    for row in await session.execute(_scoped(query, scope)):
        values = row._mapping
        team_id, count = values["team_id"], int(values["open"])
        waiting_us, waiting_customer = _waiting(values["status"], values["last_party"])
        found.append(
            Figures(
                key=str(team_id) if team_id is not None else NO_TEAM_KEY,
                label=str(values["channel"]),
                open=count,
                unassigned=int(values["unassigned"] or 0),
                waiting_us=count if waiting_us else 0,
                waiting_customer=count if waiting_customer else 0,
                sla_at_risk=int(values["sla_at_risk"] or 0),
                sla_breached=int(values["sla_breached"] or 0),
                waiting_since=values["waiting_since"] if waiting_us else None,
            )
        )
    return found


def _merged(key: str, label: str, lines: list[Figures]) -> Figures:
    waiting = [line.waiting_since for line in lines if line.waiting_since is not None]
    sums = {name: sum(line.count(name) for line in lines) for name in FIGURES}
    return Figures(key, label, waiting_since=min(waiting) if waiting else None, **sums)


@dataclass(frozen=True, slots=True)
class LiveFigures:
    teams: list[Figures]
    channels: list[Figures]
    total: Figures


async def live_figures(
    session: AsyncSession,
    scope: Scope,
    settings: LiveSettings,
    now: datetime,
    channels: tuple[str, ...] = (),
) -> LiveFigures:
    """The figures per team (every team in scope, also those with nothing open) and per
    channel (every configured channel in ``channels``, and any other with open work)."""
    risk = timedelta(minutes=settings.sla_risk_minutes)
    pairs = await _by_team_and_channel(session, scope, now, risk)
    teams_query = select(Team.id, Team.name).order_by(Team.name, Team.id)
    if scope.team_ids is not None:
        teams_query = teams_query.where(Team.id.in_(scope.team_ids or {-1}))
    teams = [
        _merged(str(team_id), name, [line for line in pairs if line.key == str(team_id)])
        for team_id, name in await session.execute(teams_query)
    ]
    homeless = [line for line in pairs if line.key == NO_TEAM_KEY]
    if homeless:
        teams.append(_merged(NO_TEAM_KEY, NO_TEAM, homeless))
    names = sorted(set(channels) | {line.label for line in pairs})
    lines = [_merged(name, name, [line for line in pairs if line.label == name]) for name in names]
    return LiveFigures(teams, lines, _merged("all", "All", pairs))


async def live_conversations(
    session: AsyncSession,
    scope: Scope,
    settings: LiveSettings,
    now: datetime,
    *,
    figure: str,
    team: str = "",
    channel: str = "",
    limit: int = 200,
) -> list[Conversation]:
    """The conversations behind one number: ``figure`` for a team (an id or "none"), a channel,
    or all in scope; longest waiting first."""
    condition = conditions(now, timedelta(minutes=settings.sla_risk_minutes))[figure]
    query = _scoped(select(Conversation).where(Conversation.status.in_(ACTIVE), condition), scope)
    if team == NO_TEAM_KEY:
        if scope.team_ids is not None:
            raise team_out_of_scope()
        query = query.where(Conversation.team_id.is_(None))
    elif team:
        if not scope.allows_team(int(team)):
            raise team_out_of_scope()
        query = query.where(Conversation.team_id == int(team))
    if channel:
        query = query.where(Conversation.channel == channel)
    if figure == "waiting_us":  # implied; the database walks ix_conversations_waiting_us
        query = query.where(
            Conversation.status == ConversationStatus.OPEN, Conversation.last_party == CUSTOMER
        )
        order: tuple[Any, ...] = (Conversation.last_inbound_at, Conversation.id)
    else:
        order = (
            Conversation.last_inbound_at.is_(None),
            Conversation.last_inbound_at,
            Conversation.id,
        )
    query = query.order_by(*order).limit(limit)
    return list((await session.scalars(query)).all())

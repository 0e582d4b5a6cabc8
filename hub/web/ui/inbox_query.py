"""The inbox list as one query: view, filters, search, sort, and keyset pagination. Every sort
walks an index: waiting and activity from migration 0003_inbox, SLA due (the maintained
``Conversation.sla_due_at``) from 0007_sla_due."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels import strict_json
from hub.agent.inbox_search import conversation_condition
from hub.config.settings import PRIORITIES
from hub.core.authz import Principal, conversation_filter
from hub.core.errors import invalid_query
from hub.db.inbox_models import ConversationTag, Mention
from hub.db.models import Conversation, ConversationStatus
from hub.web.requests import MAX_ID

PAGE_SIZE = 50
VIEWS = {
    "mine": "Mine",
    "unassigned": "Unassigned",
    "teams": "My teams",
    "all": "All",
    "mentions": "Mentions",
}
STATUSES = (*(s.value for s in ConversationStatus), "all")
SORTS = {"waiting": "Longest waiting", "sla": "SLA due", "recent": "Latest activity"}
SLA_STATES = {"breached": "Breached", "due_soon": "Due within 1 h", "on_track": "On track"}
DUE_SOON = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class InboxFilter:
    view: str = "mine"
    status: str = "open"
    channel: str = ""
    priority: str = ""
    tag: str = ""
    sla: str = ""
    q: str = ""
    sort: str = "waiting"
    after: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str], principal: Principal) -> InboxFilter:
        default_view = "all" if principal.sees_everything else "mine"
        values = {key: query.get(key, "").strip()[:200] for key in cls.__dataclass_fields__}
        chosen = cls(
            view=values["view"] or default_view,
            status=values["status"] or "open",
            channel=values["channel"],
            priority=values["priority"],
            tag=values["tag"].lower(),
            sla=values["sla"],
            q=values["q"],
            sort=values["sort"] or "waiting",
            after=values["after"],
        )
        for name, allowed in (
            ("view", VIEWS),
            ("status", STATUSES),
            ("sort", SORTS),
        ):
            if getattr(chosen, name) not in allowed:
                raise invalid_query(name, "must be one of " + ", ".join(allowed))
        if chosen.priority and chosen.priority not in PRIORITIES:
            raise invalid_query("priority", "must be one of " + ", ".join(PRIORITIES))
        if chosen.sla and chosen.sla not in SLA_STATES:
            raise invalid_query("sla", "must be one of " + ", ".join(SLA_STATES))
        return chosen

    def link(self, **changes: str) -> str:
        """Query string of this filter with ``changes``; a change restarts at the first page."""
        changed = replace(self, **({"after": ""} | changes))
        params = {
            key: getattr(changed, key)
            for key in self.__dataclass_fields__
            if getattr(changed, key) and getattr(changed, key) != getattr(InboxFilter, key, None)
        }
        return "?" + urlencode(params)


def _encode(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(raw: str) -> dict[str, Any]:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        decoded = strict_json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(decoded, dict):
            raise ValueError("shape")
        values: dict[str, Any] = decoded
        ident = values.get("i")
        if not isinstance(ident, int) or not 0 <= ident <= MAX_ID:
            raise ValueError("shape")
        if values.get("t") is not None:
            moment = datetime.fromisoformat(str(values["t"]))
            if moment.tzinfo is None:
                raise ValueError("naive")
            values["t"] = moment
        return values
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_query("after", "is not a page link this inbox gave out") from exc


def view_condition(inbox: InboxFilter, principal: Principal) -> ColumnElement[bool]:
    if inbox.view == "mine":
        return Conversation.assignee_id == principal.agent_id
    if inbox.view == "unassigned":
        return Conversation.assignee_id.is_(None)
    if inbox.view == "teams":
        if not principal.team_ids:
            return false()
        return Conversation.team_id.in_(principal.team_ids)
    if inbox.view == "mentions":
        mentioned = select(Mention.conversation_id).where(Mention.agent_id == principal.agent_id)
        return Conversation.id.in_(mentioned)
    return conversation_filter(principal)


def base_query(
    inbox: InboxFilter,
    principal: Principal,
    now: datetime,
    *,
    found: ColumnElement[bool] | None = None,
) -> Select[Conversation]:
    """Conversations of the view that pass every filter, unsorted (``found``: the condition
    of the search words, ``conversation_condition``)."""
    query = select(Conversation).where(
        conversation_filter(principal), view_condition(inbox, principal)
    )
    if inbox.status != "all":
        query = query.where(Conversation.status == inbox.status)
    if inbox.channel:
        query = query.where(Conversation.channel == inbox.channel)
    if inbox.priority:
        query = query.where(Conversation.priority == inbox.priority)
    if inbox.tag:
        tagged = select(ConversationTag.conversation_id).where(ConversationTag.tag == inbox.tag)
        query = query.where(Conversation.id.in_(tagged))
    if found is not None:
        query = query.where(found)
    if inbox.sla:
        # sla_due_at is NULL where no deadline applies (paused, resolved, no SLA).
        due = Conversation.sla_due_at
        soon = now + DUE_SOON
        condition = {
            "breached": due < now,
            "due_soon": and_(due >= now, due < soon),
            "on_track": due >= soon,
        }[inbox.sla]
        query = query.where(condition)
    return query


def _phase_query(
    query: Select[Conversation], phase: str, cursor: dict[str, Any] | None
) -> Select[Any]:
    if phase == "w":
        query = query.where(Conversation.last_inbound_at.is_not(None))
        if cursor:
            query = query.where(
                or_(
                    Conversation.last_inbound_at > cursor["t"],
                    and_(
                        Conversation.last_inbound_at == cursor["t"],
                        Conversation.id > cursor["i"],
                    ),
                )
            )
        return query.order_by(Conversation.last_inbound_at, Conversation.id)
    if phase == "n":
        query = query.where(Conversation.last_inbound_at.is_(None))
        if cursor:
            query = query.where(Conversation.id > cursor["i"])
        return query.order_by(Conversation.id)
    if phase == "r":
        if cursor:
            query = query.where(
                or_(
                    Conversation.last_activity_at < cursor["t"],
                    and_(
                        Conversation.last_activity_at == cursor["t"],
                        Conversation.id < cursor["i"],
                    ),
                )
            )
        return query.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
    if phase == "u":
        query = query.where(Conversation.sla_due_at.is_(None))
        if cursor:
            query = query.where(Conversation.id > cursor["i"])
        return query.order_by(Conversation.id)
    due = Conversation.sla_due_at
    query = query.where(due.is_not(None))
    if cursor:
        query = query.where(
            or_(due > cursor["t"], and_(due == cursor["t"], Conversation.id > cursor["i"]))
        )
    return query.order_by(due, Conversation.id)


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Conversation]
    next_after: str


async def fetch_page(
    session: AsyncSession, inbox: InboxFilter, principal: Principal, now: datetime
) -> Page:
    """One page of the inbox. The waiting sort reads conversations with an inbound message
    first (phase "w"), then those without (phase "n"); the SLA sort those with a deadline
    (phase "s"), then those without (phase "u"); so no row is skipped and each phase walks
    an index in order."""
    cursor = _decode(inbox.after) if inbox.after else None
    phase = str(cursor["p"]) if cursor else {"waiting": "w", "recent": "r", "sla": "s"}[inbox.sort]
    if phase not in SORT_OF or SORT_OF[phase] != inbox.sort:
        raise invalid_query("after", "is not a page link this inbox gave out")
    if cursor and phase in {"w", "r", "s"} and not isinstance(cursor.get("t"), datetime):
        raise invalid_query("after", "is not a page link this inbox gave out")
    found = await conversation_condition(session, inbox.q)
    base = base_query(inbox, principal, now, found=found)
    rows: list[tuple[Conversation, str]] = []
    while True:
        query = _phase_query(base, phase, cursor).limit(PAGE_SIZE + 1 - len(rows))
        rows += [(conversation, phase) for conversation in await session.scalars(query)]
        follow = NEXT_PHASE.get(phase)
        if len(rows) > PAGE_SIZE or follow is None or (phase == "s" and inbox.sla):
            break
        phase, cursor = follow, None
    after = ""
    if len(rows) > PAGE_SIZE:
        last, last_phase = rows[PAGE_SIZE - 1]
        after = next_cursor(last_phase, last)
    return Page([row[0] for row in rows[:PAGE_SIZE]], after)


SORT_OF = {"w": "waiting", "n": "waiting", "r": "recent", "s": "sla", "u": "sla"}
NEXT_PHASE = {"w": "n", "s": "u"}


def next_cursor(phase: str, last: Conversation) -> str:
    if phase == "w":
        return _encode({"p": "w", "t": _iso(last.last_inbound_at), "i": last.id})
    if phase == "n":
        return _encode({"p": "n", "t": None, "i": last.id})
    if phase == "r":
        return _encode({"p": "r", "t": _iso(last.last_activity_at), "i": last.id})
    if phase == "u":
        return _encode({"p": "u", "t": None, "i": last.id})
    return _encode({"p": "s", "t": _iso(last.sla_due_at), "i": last.id})


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

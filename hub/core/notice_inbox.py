"""Reading one's notices: who sees which (a notice addressed to a staff member is theirs alone —
an agent's mention, a supervisor's SLA escalation, the admin who saved a template that failed;
one addressed to nobody is for every admin), which are unread, marking some or all read.

Read state is kept per reader (``notice_reads``), so a notice for every admin stays unread for
the admins who have not seen it. A notice of one's own also carries ``read_at`` itself: its
unread ones are counted through a partial index (what is unread, not every notice ever read).
Notices are written by hub.core.notices."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.authz import Principal
from hub.core.errors import not_found
from hub.db.models import Agent, Role
from hub.db.notice_models import NoticeRead
from hub.db.routing_models import AdminNotice
from hub.db.upsert import insert_into

PAGE = 200


@dataclass(frozen=True, slots=True)
class NoticeView:
    id: int
    kind: str  # template_error, sla_warning, sla_escalation, mention, …
    text: str
    conversation_id: int | None
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def visible(agent_id: Any, role: Any) -> ColumnElement[bool]:
    """The notices a reader sees: their own, and an admin also those for every admin (the
    arguments are values or, for the signed-in page's count, the agent row's columns)."""
    return or_(
        AdminNotice.agent_id == agent_id, and_(AdminNotice.agent_id.is_(None), _for_admins(role))
    )


def _read_by(agent_id: Any) -> ColumnElement[bool]:
    return exists().where(NoticeRead.notice_id == AdminNotice.id, NoticeRead.agent_id == agent_id)


def _for_admins(role: Any) -> ColumnElement[bool]:
    if isinstance(role, str):
        return true() if role == Role.ADMIN else false()
    return role == Role.ADMIN.value  # type: ignore[no-any-return]


def _unread_counts(agent_id: Any, role: Any) -> Any:
    """The reader's unread notices: their own through the partial index on those not read,
    plus those for every admin that they have no read of (few: only templates that failed)."""
    own = select(func.count(AdminNotice.id)).where(
        AdminNotice.agent_id == agent_id, AdminNotice.read_at.is_(None)
    )
    for_everyone = select(func.count(AdminNotice.id)).where(
        AdminNotice.agent_id.is_(None), _for_admins(role), ~_read_by(agent_id)
    )
    if not isinstance(agent_id, int):  # the agents row of the outer query
        own, for_everyone = own.correlate(Agent), for_everyone.correlate(Agent)
    return own.scalar_subquery() + for_everyone.scalar_subquery()


def unread_count_of_agent() -> Any:
    """A scalar expression over the ``agents`` row in the outer query: that agent's unread
    notices (the navigation's count, read with the signed-in agent in one statement)."""
    return _unread_counts(Agent.id, Agent.role)


async def unread_count(session: AsyncSession, reader: Principal) -> int:
    return int(await session.scalar(select(_unread_counts(reader.agent_id, reader.role))) or 0)


async def notices_of(
    session: AsyncSession, reader: Principal, *, unread_only: bool = False, limit: int = PAGE
) -> list[NoticeView]:
    """The reader's notices, newest first, each with when the reader read it."""
    query = (
        select(AdminNotice, NoticeRead.read_at)
        .outerjoin(
            NoticeRead,
            and_(NoticeRead.notice_id == AdminNotice.id, NoticeRead.agent_id == reader.agent_id),
        )
        .where(visible(reader.agent_id, reader.role))
        .order_by(AdminNotice.id.desc())
        .limit(limit)
    )
    if unread_only:
        own = and_(AdminNotice.agent_id == reader.agent_id, AdminNotice.read_at.is_(None))
        query = query.where(
            or_(own, and_(AdminNotice.agent_id.is_(None), NoticeRead.read_at.is_(None)))
        )
    return [
        NoticeView(
            n.id,
            n.kind,
            n.text,
            n.conversation_id,
            _aware(n.created_at) or n.created_at,
            _aware(read_at),
        )
        for n, read_at in (await session.execute(query)).all()
    ]


async def mark_read(
    session: AsyncSession, reader: Principal, ids: Iterable[int] | None, now: datetime
) -> int:
    """Mark the given notices (every unread one when ``ids`` is None) read for the reader;
    returns how many were unread. An id the reader does not see is a 404 naming it."""
    mine = visible(reader.agent_id, reader.role)
    query = select(AdminNotice.id).where(mine, ~_read_by(reader.agent_id))
    if ids is not None:
        wanted = set(ids)
        seen = set(
            await session.scalars(select(AdminNotice.id).where(mine, AdminNotice.id.in_(wanted)))
        )
        missing = sorted(wanted - seen)
        if missing:
            raise not_found("notice", missing[0])
        query = query.where(AdminNotice.id.in_(wanted))
    unread = list(await session.scalars(query))
    if unread:
        rows = [{"notice_id": i, "agent_id": reader.agent_id, "read_at": now} for i in unread]
        # Two tabs marking at once: the second finds the row there and leaves it.
        insert = insert_into(session, NoticeRead)
        await session.execute(insert.values(rows).on_conflict_do_nothing())
        await session.execute(
            update(AdminNotice)
            .where(
                AdminNotice.id.in_(unread),
                AdminNotice.agent_id == reader.agent_id,
                AdminNotice.read_at.is_(None),
            )
            .values(read_at=now)
        )
    return len(unread)

"""Saved, named segments: a definition in the customer filter language (checked by
``parse_filter``; a problem names its path), its live count (one SQL ``COUNT``) and a sample of
its first members, also for a definition that is not saved yet.

A segment's members are exactly what its definition selects. Customers a CSV import put in a
segment are its static members (``segment_members``), selected by the condition
``{"field": "segment", "op": "in", "value": [id]}``: a segment created without a definition
has that condition alone, and an import into a segment whose definition lacks it adds it
(``{"any": [definition, that condition]}``), so senders only ever read the definition."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns import audience_texts as texts
from hub.core.customer_filters import Condition, FilterError, Group, compile_filter, parse_filter
from hub.core.errors import ApiError, not_found
from hub.db.campaign_models import Campaign, Segment, SegmentMember
from hub.db.models import Customer, Identity

SAMPLE_SIZE = 20
MAX_NAME = 200
MAX_DESCRIPTION = 2000
Definition = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Member:
    """One customer of a sample, as the editor lists it."""

    id: int
    name: str
    tier: str
    tags: tuple[str, ...]
    identities: tuple[tuple[str, str], ...]  # (kind, address)


@dataclass(frozen=True, slots=True)
class Preview:
    count: int
    sample: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class SegmentSummary:
    id: int
    name: str
    description: str
    definition: dict[str, Any]
    origin: str
    count: int | None  # None: not counted within the caller's time budget
    static_members: int
    created_at: datetime
    updated_at: datetime


def static_condition(segment_id: int) -> dict[str, Any]:
    return {"field": "segment", "op": "in", "value": [segment_id]}


def _segment_ids(node: Condition | Group) -> set[int]:
    if isinstance(node, Condition):
        return set(node.value) if node.field == "segment" else set()
    found: set[int] = set()
    for child in node.children:
        found |= _segment_ids(child)
    return found


def _conditions(node: Condition | Group) -> int:
    if isinstance(node, Condition):
        return 1
    return sum(_conditions(child) for child in node.children)


async def check_definition(
    session: AsyncSession, definition: object, *, where: str = "definition", saving: bool = False
) -> Condition | Group:
    """The parsed definition, or a 422 naming the path of the first problem. Segments named
    in it must exist; a saved segment needs at least one condition."""
    try:
        tree = parse_filter(definition)
    except FilterError as exc:
        path = f"{where}.{exc.path}" if exc.path != "filter" else where
        raise texts.segment_invalid(path, exc.problem) from None
    if saving and _conditions(tree) == 0:
        raise texts.segment_invalid(where, texts.NO_CONDITION)
    named = _segment_ids(tree)
    if named:
        known = set(await session.scalars(select(Segment.id).where(Segment.id.in_(named))))
        missing = sorted(named - known)
        if missing:
            raise texts.segment_invalid(where, texts.UNKNOWN_SEGMENT.format(id=missing[0]))
    return tree


def _members_condition(tree: Condition | Group, now: datetime, *, first_by_id: bool = False) -> Any:
    return (Customer.merged_into_id.is_(None), compile_filter(tree, now, first_by_id=first_by_id))


async def count_of(session: AsyncSession, tree: Condition | Group, now: datetime) -> int:
    """How many (not merged-away) customers the definition selects: one ``COUNT`` in SQL."""
    value = await session.scalar(
        select(func.count()).select_from(Customer).where(*_members_condition(tree, now))
    )
    return int(value or 0)


async def sample_of(
    session: AsyncSession, tree: Condition | Group, now: datetime, size: int = SAMPLE_SIZE
) -> tuple[Member, ...]:
    """The first ``size`` members by id, with their identities (two small queries)."""
    rows = (
        await session.execute(
            select(Customer.id, Customer.name, Customer.tier, Customer.tags)
            .where(*_members_condition(tree, now, first_by_id=True))
            .order_by(Customer.id)
            .limit(size)
        )
    ).all()
    ids = [row.id for row in rows]
    identities: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    if ids:
        found = await session.execute(
            select(Identity.customer_id, Identity.kind, Identity.address)
            .where(Identity.customer_id.in_(ids))
            .order_by(Identity.customer_id, Identity.id)
        )
        for customer_id, kind, address in found:
            identities[customer_id].append((kind, address))
    return tuple(
        Member(
            id=row.id,
            name=row.name,
            tier=row.tier,
            tags=tuple(row.tags or ()),
            identities=tuple(identities[row.id]),
        )
        for row in rows
    )


async def preview(session: AsyncSession, definition: object, now: datetime) -> Preview:
    """Count and sample of a definition as the editor holds it (saved or not)."""
    tree = await check_definition(session, definition)
    return Preview(await count_of(session, tree, now), await sample_of(session, tree, now))


def _name(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise texts.segment_name("is required")
    name = " ".join(raw.split())
    if len(name) > MAX_NAME:
        raise texts.segment_name(f"is longer than {MAX_NAME} characters")
    return name


def _description(raw: str) -> str:
    if len(raw) > MAX_DESCRIPTION:
        raise ApiError(
            422,
            "invalid_field",
            f"description: is longer than {MAX_DESCRIPTION} characters",
            {"description": f"longer than {MAX_DESCRIPTION} characters"},
        )
    return raw.strip()


async def _name_free(session: AsyncSession, name: str, but: int | None = None) -> None:
    query = select(Segment.id).where(func.lower(Segment.name) == name.lower())
    if but is not None:
        query = query.where(Segment.id != but)
    if await session.scalar(query) is not None:
        raise texts.segment_name_taken(name)


async def get_segment(session: AsyncSession, segment_id: int) -> Segment:
    segment = await session.get(Segment, segment_id)
    if segment is None:
        raise not_found("segment", segment_id)
    return segment


async def _store_named(session: AsyncSession, segment: Segment) -> None:
    """Write the segment; a name taken meanwhile (or equal but for case beyond ASCII, which
    SQLite's lower() does not fold) is the same 409 as one found taken before."""
    try:
        async with session.begin_nested():
            session.add(segment)
            await session.flush()
    except IntegrityError:
        raise texts.segment_name_taken(segment.name) from None


async def create_segment(
    session: AsyncSession,
    name: str,
    definition: Definition | None,
    now: datetime,
    *,
    description: str = "",
    agent_id: int | None = None,
) -> Segment:
    """A new segment (in the caller's transaction). Without a definition it holds the
    customers imported into it (its static members) and nobody else."""
    name = _name(name)
    await _name_free(session, name)
    if definition is not None:
        await check_definition(session, definition, saving=True)
    segment = Segment(
        name=name,
        description=_description(description),
        definition=dict(definition) if definition is not None else {"all": []},
        origin="marketer" if definition is not None else "import",
        created_by=agent_id,
        created_at=now,
        updated_at=now,
    )
    await _store_named(session, segment)
    if definition is None:
        segment.definition = {"all": [static_condition(segment.id)]}
        await session.flush()
    return segment


async def update_segment(
    session: AsyncSession,
    segment_id: int,
    now: datetime,
    *,
    name: str | None = None,
    definition: Definition | None = None,
    description: str | None = None,
) -> Segment:
    """Rename, describe or change the definition of a saved segment."""
    segment = await get_segment(session, segment_id)
    if name is not None:
        name = _name(name)
        await _name_free(session, name, but=segment.id)
        segment.name = name
    if description is not None:
        segment.description = _description(description)
    if definition is not None:
        await check_definition(session, definition, saving=True)
        segment.definition = dict(definition)
    segment.updated_at = now
    await _store_named(session, segment)
    return segment


async def delete_segment(session: AsyncSession, segment_id: int) -> None:
    """Delete a segment and its static members; refused while a campaign or another
    segment's definition uses it."""
    segment = await get_segment(session, segment_id)
    campaigns = list(
        await session.scalars(
            select(Campaign.name).where(Campaign.segment_id == segment_id).order_by(Campaign.id)
        )
    )
    users = [f"campaign {name!r}" for name in campaigns]
    for other in await session.scalars(select(Segment).where(Segment.id != segment_id)):
        try:
            tree = parse_filter(other.definition)
        except FilterError:
            continue
        if segment_id in _segment_ids(tree):
            users.append(f"segment {other.name!r}")
    if users:
        raise texts.segment_in_use(segment.name, users)
    await session.execute(delete(SegmentMember).where(SegmentMember.segment_id == segment_id))
    await session.delete(segment)
    await session.flush()


def includes_static(segment: Segment) -> bool:
    try:
        tree = parse_filter(segment.definition)
    except FilterError:
        return False
    return segment.id in _segment_ids(tree)


def with_static(segment: Segment) -> dict[str, Any]:
    """The segment's definition, selecting its static members too."""
    if includes_static(segment):
        return dict(segment.definition)
    return {"any": [dict(segment.definition), static_condition(segment.id)]}


async def list_segments(
    session: AsyncSession, now: datetime, *, budget: float | None = None
) -> list[SegmentSummary]:
    """Every saved segment by name, each with its live count (one ``COUNT`` per segment).
    With a ``budget`` (seconds), segments still to count when it is spent come without a
    count (a page shows them at once and counts the rest on its own)."""
    deadline = None if budget is None else time.monotonic() + budget
    segments = list(await session.scalars(select(Segment).order_by(func.lower(Segment.name))))
    counted = await session.execute(
        select(SegmentMember.segment_id, func.count()).group_by(SegmentMember.segment_id)
    )
    statics = {int(segment_id): int(number) for segment_id, number in counted}
    summaries = []
    for segment in segments:
        counted_now = deadline is None or time.monotonic() < deadline
        summaries.append(
            await summary_of(session, segment, now, statics.get(segment.id, 0), count=counted_now)
        )
    return summaries


async def summary_of(
    session: AsyncSession,
    segment: Segment,
    now: datetime,
    static_members: int | None = None,
    *,
    count: bool = True,
) -> SegmentSummary:
    number: int | None = None
    if count:
        try:
            number = await count_of(session, parse_filter(segment.definition), now)
        except FilterError:
            number = 0
    if static_members is None:
        static_members = int(
            await session.scalar(
                select(func.count())
                .select_from(SegmentMember)
                .where(SegmentMember.segment_id == segment.id)
            )
            or 0
        )
    return SegmentSummary(
        id=segment.id,
        name=segment.name,
        description=segment.description,
        definition=dict(segment.definition),
        origin=segment.origin,
        count=number,
        static_members=static_members,
        created_at=segment.created_at,
        updated_at=segment.updated_at,
    )

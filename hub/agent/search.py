"""Full-text search over messages and customers, one interface with a backend per store:
SQLite FTS5 tables kept by triggers (``messages_fts``, ``customers_fts``); on PostgreSQL a
stored ``to_tsvector('simple', …)`` column on messages (migration 0041) and GIN indexes on it
and on expressions over customers and addresses (0029_search). Both stay in step with ingest,
edits, merges and erasure by construction: the FTS5 tables by triggers on every insert, update
and delete, the PostgreSQL vector because it is generated from the row.

Ranking is bounded so a common word costs what a rare one does: of the newest ``CANDIDATES``
matching messages (an index walk newest first that stops there), the newest ``RANK_WINDOW`` the
viewer may see are ranked by relevance (bm25 / ts_rank, computed for those alone). Which words
match how is decided once per request (``matches_of``): on SQLite the last word is also a prefix
(search as you type) unless the whole words alone fill that window; on PostgreSQL it always is,
and the newest matching ids are read first, in two bounded steps (``_pg_newest``). Snippets
are cut from the message text (``snippets``), the same on both stores. The inbox's search box
filters on the conversations of the same newest matches, plus customers by name, company and
address (``hub/agent/inbox_search.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    ColumnElement,
    Float,
    Integer,
    Select,
    any_,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from hub.agent.snippets import WORD, pieces, snippet
from hub.core.authz import Principal, conversation_filter
from hub.db.models import Conversation, Customer, Direction, Message

MAX_TERMS = 8
RANK_WINDOW = 500
CANDIDATES = 1000


def terms(query: str) -> list[str]:
    return WORD.findall(query.lower())[:MAX_TERMS]


@dataclass(frozen=True, slots=True)
class SearchFilters:
    channel: str | None = None
    team_id: int | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def by_days(
        cls,
        *,
        channel: str | None,
        team_id: int | None,
        status: str | None,
        since: date | None,
        until: date | None,
    ) -> SearchFilters:
        """Filters with whole UTC days: from the start of ``since`` up to and including
        ``until``."""
        start = datetime.combine(since, time(), tzinfo=UTC) if since else None
        end = datetime.combine(until, time(), tzinfo=UTC) + timedelta(days=1) if until else None
        return cls(channel=channel, team_id=team_id, status=status, since=start, until=end)


@dataclass(frozen=True, slots=True)
class Hit:
    message_id: int
    conversation_id: int
    customer_id: int
    customer_name: str
    channel: str
    status: str
    direction: str
    subject: str
    created_at: datetime
    # The snippet as (text, highlighted) pieces, in order.
    snippet: tuple[tuple[str, bool], ...]


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[Hit]
    more: bool


@dataclass(frozen=True, slots=True)
class Matches:
    """How a query's words match messages, decided once per request: whether the last word is
    also a prefix, and on PostgreSQL the ids of the newest CANDIDATES matching messages."""

    words: tuple[str, ...]
    prefix: bool
    newest: tuple[int, ...] | None = None  # PostgreSQL: read up front, newest first


def fts5_query(words: list[str], prefix: bool = True) -> str:
    """Every word must occur; the last one may be a prefix (search as you type)."""
    quoted = [f'"{word}"' for word in words]
    if prefix:
        quoted[-1] += "*"
    return " ".join(quoted)


def tsquery(words: list[str], prefix: bool = True) -> str:
    return " & ".join([*words[:-1], words[-1] + (":*" if prefix else "")])


async def matches_of(session: AsyncSession, words: list[str]) -> Matches:
    """How ``words`` match messages for this request (``words`` not empty)."""
    if session.get_bind().dialect.name == "sqlite":
        return Matches(tuple(words), prefix=not await _whole_words_suffice(session, words))
    return Matches(tuple(words), True, tuple(await _pg_newest(session, words, CANDIDATES)))


async def _whole_words_suffice(session: AsyncSession, words: list[str]) -> bool:
    """Whether CANDIDATES messages have every word whole (SQLite). Then the last word is not
    also taken as a prefix: the exact words fill the ranked window, and an FTS5 prefix costs
    what its most common word does however few rows are wanted (the index merges the entries
    of every word it starts before the first row comes out: 20-30 ms for a common word on a
    million messages, against under 1 ms for the word alone). PostgreSQL's GIN index answers
    a prefix for about what the whole word costs: there the last word stays a prefix."""
    newest = _fts5_newest(words, CANDIDATES, scored=False, prefix=False).subquery()
    found = await session.scalar(select(func.count()).select_from(newest))
    return (found or 0) >= CANDIDATES


RECENT = 20_000
_PG_VECTOR: ColumnElement[Any] = literal_column("messages.search_vector")
_RECENT_FLOOR = select(func.max(Message.id) - RECENT).scalar_subquery()


async def _pg_newest(session: AsyncSession, words: list[str], limit: int) -> list[int]:
    """The newest ``limit`` messages with every word (the last also a prefix), newest first.
    First among the newest RECENT messages, walking the primary key backwards and testing each
    row's stored vector: at most RECENT rows (about 6 ms), however common the words. The test
    is written as the function behind ``@@`` so the planner cannot trade that walk for the
    GIN index, which for a common word collects hundreds of thousands of rows (60-90 ms on a
    million messages). Only when those hold fewer than ``limit`` matches, so the words are
    rare there, are the older ones found through the GIN index, all of them and then sorted
    (``id + 0``, in the order and in the bound, keeps the planner off the primary key: a
    backward walk, or a parallel scan of the older range, would test every older row for a
    rare word: 0.25-6 s for a word no message has, on a million messages, where the index
    answers in under 1 ms)."""
    query = func.to_tsquery("simple", tsquery(words))
    recent = list(
        await session.scalars(
            select(Message.id)
            .where(func.ts_match_vq(_PG_VECTOR, query, type_=Boolean), Message.id > _RECENT_FLOOR)
            .order_by(Message.id.desc())
            .limit(limit)
        )
    )
    if len(recent) >= limit:
        return recent
    older = await session.scalars(
        select(Message.id)
        .where(_PG_VECTOR.bool_op("@@")(query), Message.id + 0 <= _RECENT_FLOOR)
        .order_by((Message.id + 0).desc())
        .limit(limit)
    )
    # Messages stored between the two reads move the floor up: the two may overlap.
    return sorted({*recent, *older}, reverse=True)[:limit]


def _filters(filters: SearchFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.channel:
        conditions.append(Conversation.channel == filters.channel)
    if filters.team_id is not None:
        conditions.append(Conversation.team_id == filters.team_id)
    if filters.status:
        conditions.append(Conversation.status == filters.status)
    if filters.since is not None:
        conditions.append(Message.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(Message.created_at < filters.until)
    return conditions


_SHOWN = (Direction.INBOUND, Direction.OUTBOUND, Direction.NOTE)
_FTS_ROWID: ColumnElement[int] = literal_column("messages_fts.rowid", Integer)


def _fts5_newest(
    words: list[str], limit: int, *, scored: bool = True, prefix: bool = True
) -> Select[int, float]:
    """The newest ``limit`` messages with every word and their relevance (larger is better),
    straight from the FTS5 index newest first (it stops at the limit, however common the
    words), bm25 computed for those rows alone. ``scored=False``: ids alone (score 0), for a
    filter that does not rank: bm25 over 1,000 rows of a common word costs more than the
    match itself (24 ms of 44 on a million messages)."""
    score = literal_column("-bm25(messages_fts)", Float) if scored else literal(0.0, Float)
    return (
        select(_FTS_ROWID.label("id"), score.label("score"))
        .select_from(table("messages_fts"))
        .where(text("messages_fts MATCH :nfts").bindparams(nfts=fts5_query(words, prefix)))
        .order_by(_FTS_ROWID.desc())
        .limit(limit)
    )


def newest_candidates(matches: Matches, *, scored: bool = True) -> Select[int, float]:
    """The newest CANDIDATES matching messages and their relevance (``scored``; else 0)."""
    words = list(matches.words)
    if matches.newest is None:
        return _fts5_newest(words, CANDIDATES, scored=scored, prefix=matches.prefix)
    query = func.to_tsquery("simple", tsquery(words, matches.prefix))
    rank = func.ts_rank(_PG_VECTOR, query, type_=Float) if scored else literal(0.0, Float)
    return select(Message.id.label("id"), rank.label("score")).where(
        Message.id == any_(bindparam("newest", list(matches.newest), type_=ARRAY(Integer)))
    )


def _window(matches: Matches, principal: Principal, filters: SearchFilters) -> Select[int, float]:
    """The newest RANK_WINDOW matching messages the principal may see, among the newest
    CANDIDATES matches of all, with their relevance."""
    candidates = newest_candidates(matches).subquery()
    return (
        select(candidates.c.id, candidates.c.score)
        .join(Message, Message.id == candidates.c.id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(conversation_filter(principal), Message.direction.in_(_SHOWN), *_filters(filters))
        .order_by(candidates.c.id.desc())
        .limit(RANK_WINDOW)
    )


async def search(
    session: AsyncSession,
    principal: Principal,
    query: str,
    filters: SearchFilters,
    *,
    offset: int = 0,
    limit: int = 20,
) -> SearchPage:
    """Messages matching every word of ``query`` (the last also as a prefix, see
    ``matches_of``), most relevant first among the newest RANK_WINDOW matches, with
    highlighted snippets."""
    words = terms(query)
    if not words:
        return SearchPage([], more=False)
    matches = await matches_of(session, words)
    if matches.newest == ():
        return SearchPage([], more=False)
    scored = await session.execute(_window(matches, principal, filters))
    window = {int(found): float(score or 0.0) for found, score in scored}
    if not window:
        return SearchPage([], more=False)
    ranked = sorted(window, key=lambda found: (window[found], found), reverse=True)
    ids = ranked[offset : offset + limit]
    if not ids:
        return SearchPage([], more=False)
    rows = {
        message.id: (message, status, name)
        for message, status, name in await session.execute(
            select(Message, Conversation.status, Customer.name)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(Customer, Customer.id == Conversation.customer_id)
            .where(Message.id.in_(ids))
        )
    }
    hits = []
    for message_id in ids:
        message, status, name = rows[message_id]
        hits.append(
            Hit(
                message_id=message.id,
                conversation_id=message.conversation_id,
                customer_id=message.customer_id,
                customer_name=name,
                channel=message.channel,
                status=status,
                direction=message.direction,
                subject=message.subject,
                created_at=message.created_at,
                snippet=pieces(
                    snippet(
                        f"{message.subject} {message.text}".strip(), words, prefix=matches.prefix
                    )
                ),
            )
        )
    return SearchPage(hits, more=len(ranked) > offset + limit)

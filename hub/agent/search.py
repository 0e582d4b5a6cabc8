"""Full-text search over messages and customers, one interface with a backend per store:
SQLite FTS5 tables kept by triggers (``messages_fts``, ``customers_fts``) and PostgreSQL GIN
indexes on ``to_tsvector('simple', …)`` expressions (migrations 0003_inbox and 0029_search).
Both stay in step with ingest, edits, merges and erasure by construction: the FTS5 tables by
triggers on every insert, update and delete, the PostgreSQL indexes because they are indexes.

Ranking is bounded so a common word costs what a rare one does: of the newest ``CANDIDATES``
matching messages (an index walk newest first that stops there), the newest ``RANK_WINDOW`` the
viewer may see are ranked by relevance (bm25 / ts_rank, computed for those alone). The last
word is also a prefix (search as you type) unless the whole words alone fill that window
(``whole_words_suffice``). Snippets are cut from the message text (``snippets``), the same on
both stores. The inbox's search box filters on the conversations of the same newest matches,
plus customers by name, company and address."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause

from hub.agent.snippets import WORD, pieces, snippet
from hub.core.authz import Principal, conversation_filter
from hub.db.models import Conversation, Customer, Direction, Identity, Message, Ticket

MAX_TERMS = 8
RANK_WINDOW = 500
CANDIDATES = 1000
_DIGITS = re.compile(r"\d{1,9}")
_ADDRESS_SEPARATORS = re.compile(r"[@.+\-_]")


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


def _fts5_query(words: list[str], prefix: bool = True) -> str:
    """Every word must occur; the last one may be a prefix (search as you type)."""
    quoted = [f'"{word}"' for word in words]
    if prefix:
        quoted[-1] += "*"
    return " ".join(quoted)


def _tsquery(words: list[str], prefix: bool = True) -> str:
    return " & ".join([*words[:-1], words[-1] + (":*" if prefix else "")])


def _message_match(dialect: str, words: list[str], prefix: bool = True) -> TextClause:
    if dialect == "sqlite":
        return text(
            "messages.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :fts)"
        ).bindparams(bindparam("fts", _fts5_query(words, prefix)))
    return text(
        "to_tsvector('simple', coalesce(messages.subject, '') || ' ' || "
        "coalesce(messages.text, '')) @@ to_tsquery('simple', :tsq)"
    ).bindparams(bindparam("tsq", _tsquery(words, prefix)))


def _customer_match(dialect: str, words: list[str]) -> TextClause:
    if dialect == "sqlite":
        return text(
            "customers.id IN (SELECT rowid FROM customers_fts WHERE customers_fts MATCH :cfts)"
        ).bindparams(bindparam("cfts", _fts5_query(words)))
    return text(
        "to_tsvector('simple', coalesce(customers.name, '') || ' ' || "
        "coalesce(customers.company, '')) @@ to_tsquery('simple', :ctsq)"
    ).bindparams(bindparam("ctsq", _tsquery(words)))


def _address_match(dialect: str, words: list[str]) -> TextClause:
    if dialect == "sqlite":
        return text(
            "identities.id IN (SELECT rowid FROM identities_fts WHERE identities_fts MATCH :ifts)"
        ).bindparams(bindparam("ifts", _fts5_query(words)))
    return text(
        "to_tsvector('simple', translate(identities.address, '@.+-_', '     ')) "
        "@@ to_tsquery('simple', :itsq)"
    ).bindparams(bindparam("itsq", _tsquery(words)))


def matching_customers(dialect: str, query: str) -> Select[tuple[int]] | None:
    """Ids of customers whose name or company has every word, or with an address that has
    them (a domain, a mailbox name, a phone number), through the full-text indexes only."""
    words = terms(query)
    if not words:
        return None
    by_name = select(Customer.id).where(_customer_match(dialect, words))
    address_words = terms(_ADDRESS_SEPARATORS.sub(" ", query)) or words
    by_address = select(Identity.customer_id).where(_address_match(dialect, address_words))
    return select(union(by_name, by_address).subquery().c[0])


async def whole_words_suffice(session: AsyncSession, words: list[str]) -> bool:
    """Whether CANDIDATES messages have every word whole, on SQLite. Then the last word is not
    also taken as a prefix: the exact words fill the ranked window, and an FTS5 prefix costs
    what its most common word does however few rows are wanted (the index merges the entries
    of every word it starts before the first row comes out: 20-30 ms for a common word on a
    million messages, against under 1 ms for the word alone). PostgreSQL's GIN index answers
    a prefix for about what the whole word costs, and asking first would cost as much again
    (40-90 ms for a common word on a million messages): there the last word stays a prefix."""
    dialect = session.get_bind().dialect.name
    if not words or dialect != "sqlite":
        return False
    newest = _newest_matches(dialect, words, CANDIDATES, scored=False, prefix=False).subquery()
    found = await session.scalar(select(func.count()).select_from(newest))
    return (found or 0) >= CANDIDATES


def matching_conversations(
    dialect: str, query: str, *, prefix: bool = True
) -> Select[tuple[int]] | None:
    """Ids of conversations whose messages, customer or ticket number match ``query``;
    None when the query has no words. ``prefix=False`` (``whole_words_suffice``): messages
    match on whole words only."""
    customers = matching_customers(dialect, query)
    if customers is None:
        return None
    # The conversations of the newest CANDIDATES matching messages: a common word would
    # otherwise make every conversation a match to sort (the search page ranks all words).
    newest = _newest_matches(
        dialect, terms(query), CANDIDATES, scored=False, prefix=prefix
    ).subquery()
    by_message = select(Message.conversation_id).where(Message.id.in_(select(newest.c.id)))
    by_customer = select(Conversation.id).where(Conversation.customer_id.in_(customers))
    parts = [by_message, by_customer]
    number = query.strip().lstrip("#")
    if _DIGITS.fullmatch(number):
        parts.append(select(Ticket.conversation_id).where(Ticket.number == int(number)))
    return select(union(*parts).subquery().c[0])


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


_PG_VECTOR = (
    "to_tsvector('simple', coalesce(messages.subject, '') || ' ' || coalesce(messages.text, ''))"
)
_SHOWN = (Direction.INBOUND, Direction.OUTBOUND, Direction.NOTE)
_FTS_ROWID: ColumnElement[int] = literal_column("messages_fts.rowid", Integer)


def _newest_matches(
    dialect: str, words: list[str], limit: int, *, scored: bool = True, prefix: bool = True
) -> Select[int, float]:
    """The newest ``limit`` messages with every word and their relevance (larger is better):
    on SQLite straight from the FTS5 index newest first (it stops at the limit, however common
    the words), bm25 computed for those rows alone. ``scored=False``: ids alone (score 0), for
    a filter that does not rank: bm25 over 1,000 rows of a common word costs more than the
    match itself (24 ms of 44 on a million messages)."""
    if dialect == "sqlite":
        score = literal_column("-bm25(messages_fts)", Float) if scored else literal(0.0, Float)
        return (
            select(_FTS_ROWID.label("id"), score.label("score"))
            .select_from(table("messages_fts"))
            .where(text("messages_fts MATCH :nfts").bindparams(nfts=_fts5_query(words, prefix)))
            .order_by(_FTS_ROWID.desc())
            .limit(limit)
        )
    rank = func.ts_rank(
        literal_column(_PG_VECTOR), func.to_tsquery("simple", _tsquery(words, prefix)), type_=Float
    )
    return (
        select(Message.id.label("id"), (rank if scored else literal(0.0, Float)).label("score"))
        .where(_message_match(dialect, words, prefix))
        .order_by(Message.id.desc())
        .limit(limit)
    )


def _window(
    dialect: str, words: list[str], principal: Principal, filters: SearchFilters, prefix: bool
) -> Select[int, float]:
    """The newest RANK_WINDOW matching messages the principal may see, among the newest
    CANDIDATES matches of all, with their relevance."""
    candidates = _newest_matches(dialect, words, CANDIDATES, prefix=prefix).subquery()
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
    """Messages matching every word of ``query`` (the last also as a prefix, unless the whole
    words match enough messages), most relevant first among the newest RANK_WINDOW matches,
    with highlighted snippets."""
    words = terms(query)
    if not words:
        return SearchPage([], more=False)
    dialect = session.get_bind().dialect.name
    prefix = not await whole_words_suffice(session, words)
    scored = await session.execute(_window(dialect, words, principal, filters, prefix))
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
                    snippet(f"{message.subject} {message.text}".strip(), words, prefix=prefix)
                ),
            )
        )
    return SearchPage(hits, more=len(ranked) > offset + limit)

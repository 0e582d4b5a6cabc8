"""What the inbox's search box matches: conversations whose newest matching messages, customer
(name, company, an address) or ticket number fit the words, through the full-text indexes
only (``hub/agent/search.py`` has the message side).

On SQLite the inbox's query takes them as a subquery. On PostgreSQL they are read first and
passed as arrays: planned inside the page's query, a subquery's guess of how many rows it
holds (thousands where there were 211) made the planner read every open conversation to join
them (50-85 ms at 100,000 conversations). With the arrays it walks the inbox's order index and
stops at a page: 1.5-3 ms at 100,000 conversations, for a common word and for a first name
that 2,548 customers have."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ARRAY,
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    any_,
    bindparam,
    literal,
    or_,
    select,
    text,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause

from hub.agent.search import Matches, fts5_query, matches_of, newest_candidates, terms, tsquery
from hub.db.models import Conversation, Customer, Identity, Message, Ticket

_DIGITS = re.compile(r"\d{1,9}")
_ADDRESS_SEPARATORS = re.compile(r"[@.+\-_]")
_BY_CONVERSATION, _BY_CUSTOMER = 0, 1


def _customer_match(dialect: str, words: list[str]) -> TextClause:
    if dialect == "sqlite":
        return text(
            "customers.id IN (SELECT rowid FROM customers_fts WHERE customers_fts MATCH :cfts)"
        ).bindparams(bindparam("cfts", fts5_query(words)))
    return text(
        "to_tsvector('simple', coalesce(customers.name, '') || ' ' || "
        "coalesce(customers.company, '')) @@ to_tsquery('simple', :ctsq)"
    ).bindparams(bindparam("ctsq", tsquery(words)))


def _address_match(dialect: str, words: list[str]) -> TextClause:
    if dialect == "sqlite":
        return text(
            "identities.id IN (SELECT rowid FROM identities_fts WHERE identities_fts MATCH :ifts)"
        ).bindparams(bindparam("ifts", fts5_query(words)))
    return text(
        "to_tsvector('simple', translate(identities.address, '@.+-_', '     ')) "
        "@@ to_tsquery('simple', :itsq)"
    ).bindparams(bindparam("itsq", tsquery(words)))


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


def _conversation_parts(query: str, matches: Matches) -> list[Select[int]]:
    """Ids of the conversations of the newest CANDIDATES matching messages (a common word
    would otherwise make every conversation a match to sort), and of a ticket number."""
    newest = newest_candidates(matches, scored=False).subquery()
    parts = [select(Message.conversation_id).where(Message.id.in_(select(newest.c.id)))]
    number = query.strip().lstrip("#")
    if _DIGITS.fullmatch(number):
        parts.append(select(Ticket.conversation_id).where(Ticket.number == int(number)))
    return parts


def matching_conversations(dialect: str, query: str, matches: Matches) -> Select[tuple[int]] | None:
    """Ids of conversations whose messages (as ``matches`` has them), customer or ticket
    number match ``query``; None when the query has no words."""
    customers = matching_customers(dialect, query)
    if customers is None:
        return None
    by_customer = select(Conversation.id).where(Conversation.customer_id.in_(customers))
    return select(union(*_conversation_parts(query, matches), by_customer).subquery().c[0])


async def conversation_condition(session: AsyncSession, query: str) -> ColumnElement[bool] | None:
    """The condition on conversations the inbox's search box filters by; None when the query
    has no words."""
    words = terms(query)
    if not words:
        return None
    dialect = session.get_bind().dialect.name
    matches = await matches_of(session, words)
    if dialect == "sqlite":
        ids = matching_conversations(dialect, query, matches)
        return None if ids is None else Conversation.id.in_(ids)
    customers = matching_customers(dialect, query)
    assert customers is not None  # there are words
    conversations = union(*_conversation_parts(query, matches)).subquery()
    both = union_all(
        select(literal(_BY_CONVERSATION), conversations.c[0]),
        select(literal(_BY_CUSTOMER), customers.subquery().c[0]),
    )
    found: dict[int, set[int]] = {_BY_CONVERSATION: set(), _BY_CUSTOMER: set()}
    for way, row_id in await session.execute(both):
        found[way].add(row_id)
    return or_(
        Conversation.id == any_(_ids("conversations", found[_BY_CONVERSATION])),
        Conversation.customer_id == any_(_ids("customers", found[_BY_CUSTOMER])),
    )


def _ids(name: str, ids: set[int]) -> BindParameter[Any]:
    return bindparam(name, sorted(ids), type_=ARRAY(Integer))

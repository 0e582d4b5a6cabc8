"""Full-text search over messages (FTS5 on SQLite, a GIN tsvector index on PostgreSQL; both made
by migration 0003_inbox) and over customers (name, company, addresses), as conversation-id
subqueries the inbox list filters on."""

from __future__ import annotations

import re

from sqlalchemy import Select, bindparam, or_, select, text, union
from sqlalchemy.sql.elements import TextClause

from hub.core.customers import name_key
from hub.db.models import Conversation, Customer, Identity, Message, Ticket
from hub.web.requests import row_id

MAX_TERMS = 8
_WORD = re.compile(r"\w+", re.UNICODE)


def terms(query: str) -> list[str]:
    return _WORD.findall(query.lower())[:MAX_TERMS]


def _fts5_query(words: list[str]) -> str:
    """Every word must occur; the last one may be a prefix (search as you type)."""
    quoted = [f'"{word}"' for word in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def _message_match(dialect: str, words: list[str]) -> TextClause:
    if dialect == "sqlite":
        return text(
            "messages.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH :fts)"
        ).bindparams(bindparam("fts", _fts5_query(words)))
    return text(
        "to_tsvector('simple', coalesce(messages.subject, '') || ' ' || "
        "coalesce(messages.text, '')) @@ to_tsquery('simple', :tsq)"
    ).bindparams(bindparam("tsq", " & ".join([*words[:-1], words[-1] + ":*"])))


def matching_conversations(dialect: str, query: str) -> Select[tuple[int]] | None:
    """Ids of conversations whose messages, customer or ticket number match ``query``;
    None when the query has no words."""
    words = terms(query)
    if not words:
        return None
    by_message = select(Message.conversation_id).where(_message_match(dialect, words))
    pattern = "%" + "%".join(words) + "%"
    customers = select(Customer.id).where(
        or_(
            Customer.name_key.like(f"%{name_key(' '.join(words))}%"),
            Customer.company.ilike(pattern),
        )
    )
    addresses = select(Identity.customer_id).where(Identity.address.ilike(pattern))
    by_customer = select(Conversation.id).where(
        or_(Conversation.customer_id.in_(customers), Conversation.customer_id.in_(addresses))
    )
    parts = [by_message, by_customer]
    number = query.strip().lstrip("#")
    ticket = row_id(number)
    if ticket is not None:
        parts.append(select(Ticket.conversation_id).where(Ticket.number == ticket))
    found = union(*parts).subquery()
    return select(found.c[0])

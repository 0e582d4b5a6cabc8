"""Answers that hold for one transaction: routing reads the ruleset version and a team that
does not exist once per ingest batch (its transaction) instead of once per message, and knows
which customers the batch created (whose every conversation is then in the session). A new
transaction starts with an empty memo, so what another process commits is seen by the next
batch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

_KEY = "transaction_memo"


def memo(session: AsyncSession) -> dict[str, Any]:
    """This session's memo for the transaction it is in (a fresh one for a new transaction)."""
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_KEY)
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        session.info[_KEY] = held
    memo_: dict[str, Any] = held[1]
    return memo_


def note_new_customer(session: AsyncSession, customer_id: int) -> None:
    """The customer was created in this transaction."""
    memo(session).setdefault("new_customers", set()).add(customer_id)


def is_new_customer(session: AsyncSession, customer_id: int) -> bool:
    return customer_id in memo(session).get("new_customers", ())


def note_returning(session: AsyncSession, answers: dict[int, bool]) -> None:
    """Whether each customer has a conversation besides the one just opened for them (these
    answers replace any before)."""
    memo(session)["returning"] = answers


def returning_known(session: AsyncSession, customer_id: int) -> bool | None:
    """What ``note_returning`` said of the customer, or None if it said nothing."""
    answers: dict[int, bool] = memo(session).get("returning", {})
    return answers.get(customer_id)


def note_automatic_reply(session: AsyncSession, identity_id: int) -> None:
    """An automatic reply to the identity was queued in this transaction."""
    counts: dict[int, int] = memo(session).setdefault("automatic_replies", {})
    counts[identity_id] = counts.get(identity_id, 0) + 1


def automatic_replies(session: AsyncSession, identity_id: int) -> int:
    """How many automatic replies to the identity this transaction queued."""
    counts: dict[int, int] = memo(session).get("automatic_replies", {})
    return counts.get(identity_id, 0)


def note_replies_before(session: AsyncSession, counts: dict[int, int]) -> None:
    """Automatic replies each identity got in the mail-loop window that this transaction did
    not queue (read once for a batch): with ``automatic_replies`` the count at any later
    point of the transaction, as every automatic reply it queues is noted."""
    memo(session).setdefault("replies_before", {}).update(counts)


def replies_before(session: AsyncSession, identity_id: int) -> int | None:
    """What ``note_replies_before`` said of the identity, or None if it said nothing."""
    counts: dict[int, int] = memo(session).get("replies_before", {})
    return counts.get(identity_id)


@contextmanager
def unflushed_unless(session: AsyncSession, *models: type) -> Iterator[None]:
    """Statements in the block flush what is pending (SQLAlchemy flushes before every
    statement, Core ones included) only when it holds a row of ``models``, the tables they
    read: the ingest path's other rows go in with its next flush, where a flush before each
    read would cost a flush and sometimes an UPDATE of a row just inserted."""
    sync = session.sync_session
    pending = (*sync.new, *sync.dirty, *sync.deleted)
    touched = any(isinstance(row, models) for row in pending)
    with nullcontext() if touched else sync.no_autoflush:
        yield

"""Customer records: resolve a sender to a customer by exact identity, create one otherwise, and
record fuzzy duplicate candidates for agents to merge later."""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import Executable, Select, bindparam, func, literal_column, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Party
from hub.core.prefix import successor
from hub.core.transaction_memo import note_returning
from hub.db.models import Conversation, Customer, DuplicateCandidate, Identity

CANDIDATE_SCAN_LIMIT = 200
# Only the closest few are worth an agent's look; a common name would otherwise list hundreds.
MAX_CANDIDATES = 5
# Shared mailboxes: the same name at two domains says nothing about the people behind them.
ROLE_MAILBOXES = frozenset(
    {
        "admin", "billing", "contact", "enquiries", "hello", "help", "info", "mail", "marketing",
        "no-reply", "noreply", "office", "orders", "postmaster", "sales", "service", "support",
        "team", "webmaster",
    }
)  # fmt: skip


def name_key(name: str) -> str:
    """Lower-case, accent-free, single-spaced name used for blocking fuzzy comparisons."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.lower().split())


@dataclass(frozen=True, slots=True)
class Resolved:
    customer: Customer
    identity: Identity
    created: bool


def learn_name(customer: Customer, sender: Party) -> None:
    """A customer known without a name takes the first display name a sender gives."""
    if sender.name and not customer.name:
        customer.name = sender.name
        customer.name_key = name_key(sender.name)


async def resolve_customer(
    session: AsyncSession,
    sender: Party,
    now: datetime,
    *,
    known_new: bool = False,
    contact: bool = False,
) -> Resolved:
    """The sender's customer, created with its identity if none has it (added to the session,
    not flushed: a new customer's id is known after the next flush). ``known_new``: the caller
    just looked and no identity has this address (skips the lookup); ``contact``: a new
    customer's ``last_contact_at`` is ``now`` (the sender is writing to us)."""
    identity = None
    if not known_new:
        identity = await session.scalar(
            select(Identity).where(
                Identity.kind == sender.kind.value, Identity.address == sender.address
            )
        )
    if identity is not None:
        customer = await session.get(Customer, identity.customer_id)
        assert customer is not None
        while customer.merged_into_id is not None:
            merged = await session.get(Customer, customer.merged_into_id)
            assert merged is not None
            customer = merged
        learn_name(customer, sender)
        return Resolved(customer, identity, created=False)
    display = sender.name or ""
    customer = Customer(
        name=display,
        name_key=name_key(display),
        preferred_channel=None,
        created_at=now,
        tags=[],
        attributes={},
        consent={},
        last_contact_at=now if contact else None,
    )
    identity = Identity(
        kind=sender.kind.value, address=sender.address, display_name=display, created_at=now
    )
    # Not flushed: both get their ids with the next flush (the customer first), usually the
    # one that writes the sender's first conversation.
    identity.customer = customer
    session.add(identity)
    return Resolved(customer, identity, created=True)


def _email_local(address: str) -> str:
    return address.partition("@")[0] if "@" in address else ""


async def record_duplicate_candidates(
    session: AsyncSession,
    customer: Customer,
    identity: Identity,
    threshold: float,
    now: datetime,
    *,
    later: frozenset[int] = frozenset(),
) -> list[DuplicateCandidate]:
    """Compare a new customer against plausible existing ones (same name prefix, or the same
    mailbox name at another domain) and keep those scoring at least ``threshold``. The
    customer may be unflushed (no id yet): the candidates go in with it. ``later``: customers
    written with this one but created after it, left out as they would be had each been
    written on its own (the later one's search finds this one)."""
    found = []
    for other_id, score, reason in await duplicate_candidates(
        session, customer, identity, threshold, later=later
    ):
        candidate = DuplicateCandidate(
            customer_id=customer.id,
            candidate_id=other_id,
            score=round(score, 1),
            reason=reason,
            created_at=now,
        )
        if customer.id is None:
            candidate.customer = customer
        session.add(candidate)
        found.append(candidate)
    return found


async def duplicate_candidates(
    session: AsyncSession,
    customer: Customer,
    identity: Identity,
    threshold: float,
    *,
    later: frozenset[int] = frozenset(),
) -> list[tuple[int, float, str]]:
    """The closest existing customers (id, score, reason), best first, found by one select of
    the indexed lookups (none when neither the name nor the address gives a key)."""
    key = customer.name_key
    local = _email_local(identity.address)
    # Block on the start of the name and of its last word, so "Cooper, Jane" meets "Jane Cooper".
    words = key.split()
    blocks = sorted(
        {block for block in (key[:3], words[-1][:3] if words else "") if len(block) == 3}
    )
    prefixes = [*blocks, local + "@"] if len(local) >= 4 and local not in ROLE_MAILBOXES else blocks
    if not prefixes:
        return []
    params: dict[str, Any] = {} if customer.id is None else {"itself": customer.id}
    for n, prefix in enumerate(prefixes):
        params[f"lo{n}"], params[f"hi{n}"] = prefix, successor(prefix) or _ABOVE_ALL
    query = _lookups(len(blocks), len(prefixes) > len(blocks), customer.id is not None)
    rows = (await session.execute(query, params)).all()
    scores: dict[int, tuple[float, str]] = {}
    if later:
        rows = [row for row in rows if row[1] not in later]
    for way, other_id, other_key in rows:  # names first: a mailbox match outranks them
        if way == _BY_NAME:
            score = fuzz.token_sort_ratio(key, other_key)
            if score >= threshold:
                scores[other_id] = (score, "similar name")
    for way, other_id, _address in rows:
        if way == _BY_MAILBOX:
            best = scores.get(other_id, (0.0, ""))
            scores[other_id] = (max(best[0], 90.0), "same mailbox name at another domain")
    closest = sorted(scores.items(), key=lambda item: item[1][0], reverse=True)[:MAX_CANDIDATES]
    return [(other_id, score, reason) for other_id, (score, reason) in closest]


_BY_NAME, _BY_MAILBOX = 0, 1  # which lookup found a row
# Above every string a name key or address holds (successor() gives None only for a prefix
# of U+10FFFF characters alone).
_ABOVE_ALL = chr(0x10FFFF) * 400


@cache
def _lookups(blocks: int, mailbox: bool, exclude: bool) -> Executable:
    """The duplicate search's select for its shape (built once: building and hashing a
    statement costs more than running it): a lookup per name block, sharing the scan limit
    (an OR of the ranges makes SQLite gather every row of both before the limit, about
    3.5 ms at 100,000 customers), and the mailbox lookup; each keeps its own limit and index
    range in the UNION ALL. Bound: ``lo<n>``/``hi<n>`` per prefix (mailbox last), ``itself``
    (a flushed customer's own id, left out; an unflushed one is not in the table)."""
    lookups: list[Select[*tuple[Any, ...]]] = []
    for n in range(blocks):
        lookups.append(
            select(literal_column(str(_BY_NAME)).label("way"), Customer.id, Customer.name_key)
            .where(
                Customer.name_key >= bindparam(f"lo{n}"),
                Customer.name_key < bindparam(f"hi{n}"),
                *([Customer.id != bindparam("itself")] if exclude else []),
                Customer.merged_into_id.is_(None),
            )
            .limit(CANDIDATE_SCAN_LIMIT // blocks)
        )
    if mailbox:
        lookups.append(
            select(
                literal_column(str(_BY_MAILBOX)).label("way"),
                Identity.customer_id,
                Identity.address,
            )
            .join(Customer, Customer.id == Identity.customer_id)
            .where(
                Identity.kind == "email",
                Identity.address >= bindparam(f"lo{blocks}"),
                Identity.address < bindparam(f"hi{blocks}"),
                *([Identity.customer_id != bindparam("itself")] if exclude else []),
                Customer.merged_into_id.is_(None),
            )
            .limit(CANDIDATE_SCAN_LIMIT)
        )
    if len(lookups) == 1:
        return lookups[0]
    return union_all(*(select(*lookup.subquery().c) for lookup in lookups))


_CONVERSATIONS_OF = (
    select(Conversation.customer_id, func.count())
    .where(Conversation.customer_id.in_(bindparam("customers", expanding=True)))
    .group_by(Conversation.customer_id)
)


@asynccontextmanager
async def returning_known_for(
    session: AsyncSession, customer_ids: list[int]
) -> AsyncIterator[None]:
    """For known customers a batch has just opened one conversation each (written): whether
    each has another, read for all at once, for routing's ``returning`` fact while the block
    routes those conversations (it asks per message otherwise). The answers are forgotten
    after the block: a conversation opened later makes them stale."""
    if len(customer_ids) < 2:
        yield
        return
    with session.no_autoflush:  # the new conversations are written; nothing else counts
        counts = dict((await session.execute(_CONVERSATIONS_OF, {"customers": customer_ids})).all())
    note_returning(session, {customer: counts.get(customer, 0) > 1 for customer in customer_ids})
    try:
        yield
    finally:
        note_returning(session, {})

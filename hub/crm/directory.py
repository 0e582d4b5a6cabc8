"""The customer directory: search by name, email, phone, handle, company or tag, filter by tier,
tag, last contact and open tickets, sort and page. Every search is a range over an index (a
prefix ``q`` becomes ``key >= q AND key < successor(q)``), never a scan of every customer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    exists,
    func,
    literal_column,
    select,
    text,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.authz import Principal, conversation_filter
from hub.core.customer_tags import normal_tag
from hub.core.customers import name_key
from hub.core.prefix import starts_with
from hub.db.crm_models import CustomerTag
from hub.db.models import Conversation, Customer, Identity, Role, Ticket, TicketStatus

SearchKey = Literal["any", "name", "email", "phone", "handle", "company", "tag"]
Contact = Literal["any", "7d", "30d", "90d", "silent_30d", "silent_90d", "never"]
OpenTickets = Literal["any", "some", "none"]
Sort = Literal["name", "-name", "company", "-last_contact", "last_contact", "-created", "created"]
SEARCH_KEYS: tuple[SearchKey, ...] = ("any", "name", "email", "phone", "handle", "company", "tag")
CONTACTS: tuple[Contact, ...] = ("any", "7d", "30d", "90d", "silent_30d", "silent_90d", "never")
SORTS: tuple[Sort, ...] = (
    "name", "-name", "company", "-last_contact", "last_contact", "-created", "created"
)  # fmt: skip
OPEN = (TicketStatus.OPEN.value, TicketStatus.PENDING.value)
COUNT_CAP = 1000
BROAD_TAG = 1000  # tagged customers beyond which SQLite walks the sort order (walk_in_order)
HANDLE_KINDS = ("telegram", "slack", "web", "api")
_DIGITS = re.compile(r"\D")


@dataclass(frozen=True, slots=True)
class DirectoryQuery:
    q: str = ""
    by: SearchKey = "any"
    tier: str | None = None
    tag: str | None = None
    contact: Contact = "any"
    open_tickets: OpenTickets = "any"
    sort: Sort = "name"
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True, slots=True)
class CustomerLine:
    """What a directory row shows of a customer (not the whole row: lists stay light)."""

    id: int
    name: str
    company: str
    tier: str
    tags: list[str]
    last_contact_at: datetime | None
    created_at: datetime


LINE_COLUMNS = (
    Customer.id,
    Customer.name,
    Customer.company,
    Customer.tier,
    Customer.tags,
    Customer.last_contact_at,
    Customer.created_at,
)


def line_of(customer: Customer) -> CustomerLine:
    return CustomerLine(
        customer.id,
        customer.name,
        customer.company,
        customer.tier,
        list(customer.tags or []),
        customer.last_contact_at,
        customer.created_at,
    )


@dataclass(frozen=True, slots=True)
class DirectoryRow:
    customer: CustomerLine
    email: str | None
    open_tickets: int


@dataclass(frozen=True, slots=True)
class DirectoryPage:
    rows: list[DirectoryRow]
    total: int  # at most COUNT_CAP (then ``more`` is true)
    more: bool
    query: DirectoryQuery = field(default_factory=DirectoryQuery)

    @property
    def next_offset(self) -> int | None:
        following = self.query.offset + self.query.limit
        return following if following < self.total else None


def phone_key(raw: str) -> str:
    """A phone number as identities store it: ``+`` and digits only."""
    digits = _DIGITS.sub("", raw)
    return f"+{digits}" if digits else ""


def _matches(q: str, by: SearchKey) -> Select[int] | None:
    """Ids of customers matching ``q`` by ``by`` (each branch one index range)."""
    text = " ".join(q.split())
    if not text:
        return None
    lower = text.lower()
    branches: list[Select[int]] = []
    if by in ("any", "name") and name_key(text):
        branches.append(select(Customer.id).where(starts_with(Customer.name_key, name_key(text))))
    if by in ("any", "company"):
        branches.append(select(Customer.id).where(starts_with(func.lower(Customer.company), lower)))
    if by == "email" or (by == "any" and "@" in text and not text.startswith("@")):
        branches.append(
            select(Identity.customer_id).where(
                Identity.kind == "email", starts_with(Identity.address, lower)
            )
        )
    phone = phone_key(text)
    wants_phone = by == "phone" or (
        by == "any" and len(phone) >= 4 and not re.search("[A-Za-z]", text)
    )
    if wants_phone and phone:
        branches.append(
            select(Identity.customer_id).where(
                Identity.kind == "phone", starts_with(Identity.address, phone)
            )
        )
    if by in ("any", "handle"):
        handle = text.removeprefix("@")
        if handle:
            branches.append(
                select(Identity.customer_id).where(
                    Identity.kind.in_(HANDLE_KINDS), starts_with(Identity.address, handle)
                )
            )
            branches.append(
                select(Identity.customer_id).where(
                    Identity.kind.in_(HANDLE_KINDS),
                    starts_with(func.lower(Identity.display_name), handle.lower()),
                )
            )
    if by in ("any", "tag") and normal_tag(text):
        tag = normal_tag(text.removeprefix("#"))
        if by == "tag":
            branches.append(
                select(CustomerTag.customer_id).where(starts_with(CustomerTag.tag, tag))
            )
        else:
            branches.append(select(CustomerTag.customer_id).where(CustomerTag.tag == tag))
    if not branches:
        return select(Customer.id).where(literal_column("1") == 0)
    if len(branches) == 1:
        return branches[0]
    matched = union(*branches).subquery()
    return select(matched.c[0])


def open_ticket_exists() -> ColumnElement[bool]:
    return exists(
        select(Ticket.id)
        .join(Conversation, Conversation.id == Ticket.conversation_id)
        .where(Conversation.customer_id == Customer.id, Ticket.status.in_(OPEN))
    )


def visible_customers(principal: Principal) -> ColumnElement[bool] | None:
    """The customers ``principal`` may see (None: all), as hub.core.authz.can_see_customer."""
    if principal.sees_everything or principal.role == Role.MARKETER:
        return None
    return exists(
        select(Conversation.id).where(
            Conversation.customer_id == Customer.id, conversation_filter(principal)
        )
    )


def _tag_rows(query: DirectoryQuery) -> ColumnElement[bool] | None:
    """Which ``customer_tags`` rows the query's tag filter or tag search reads, if any."""
    if query.tag:
        return CustomerTag.tag == normal_tag(query.tag)
    tag = normal_tag(query.q.removeprefix("#"))
    return starts_with(CustomerTag.tag, tag) if query.by == "tag" and tag else None


async def walk_in_order(session: AsyncSession, query: DirectoryQuery) -> bool:
    """Whether SQLite should walk the sort's index and keep tagged customers as they pass,
    instead of fetching every tagged customer and sorting them: worth it when the tag is
    common (its first page is near), not when it is rare. PostgreSQL's planner chooses by
    itself from its statistics."""
    rows = _tag_rows(query)
    if rows is None or session.get_bind().dialect.name != "sqlite":
        return False
    sample = select(CustomerTag.customer_id).where(rows).limit(BROAD_TAG + 1).subquery()
    return int(await session.scalar(select(func.count()).select_from(sample)) or 0) > BROAD_TAG


def conditions(
    query: DirectoryQuery, principal: Principal, now: datetime, *, walk: bool = False
) -> list[ColumnElement[bool]]:
    """The query as SQL conditions over ``Customer``. ``walk``: see ``walk_in_order`` (the
    tagged ids are tested as rows pass, ``id + 0`` keeping SQLite off the id lookup)."""
    member: SQLColumnExpression[int] = (Customer.id + 0) if walk else Customer.id
    where: list[ColumnElement[bool]] = [Customer.merged_into_id.is_(None)]
    matched = _matches(query.q, query.by)
    if matched is not None:
        where.append((member if query.by == "tag" else Customer.id).in_(matched))
    if query.tier:
        where.append(Customer.tier == query.tier)
    if query.tag:
        tagged = select(CustomerTag.customer_id).where(CustomerTag.tag == normal_tag(query.tag))
        where.append(member.in_(tagged))
    if query.contact == "never":
        where.append(Customer.last_contact_at.is_(None))
    elif query.contact.startswith("silent_"):
        days = int(query.contact.removeprefix("silent_").removesuffix("d"))
        where.append(Customer.last_contact_at < now - timedelta(days=days))
    elif query.contact != "any":
        days = int(query.contact.removesuffix("d"))
        where.append(Customer.last_contact_at >= now - timedelta(days=days))
    if query.open_tickets == "some":
        where.append(open_ticket_exists())
    elif query.open_tickets == "none":
        where.append(~open_ticket_exists())
    visible = visible_customers(principal)
    if visible is not None:
        where.append(visible)
    return where


def ordering(sort: Sort, dialect: str) -> list[ColumnElement[Any]]:
    """The sort, never-contacted customers last in both directions. Only ``last_contact_at``
    may be NULL; each backend is asked for the order its index keeps (see crm_models)."""
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    column: SQLColumnExpression[Any] = {
        "name": Customer.name_key,
        "company": func.lower(Customer.company),
        "last_contact": Customer.last_contact_at,
        "created": Customer.created_at,
    }[key]
    tie = Customer.id.desc() if descending else Customer.id.asc()
    ordered = column.desc() if descending else column.asc()
    # NULLs sort first on SQLite ascending and on PostgreSQL descending.
    if key == "last_contact" and (dialect == "sqlite") != descending:
        ordered = ordered.nulls_last()
    return [ordered, tie]


async def search(
    session: AsyncSession, principal: Principal, query: DirectoryQuery, now: datetime
) -> DirectoryPage:
    if session.get_bind().dialect.name == "postgresql":
        # A prepared statement's generic plan cannot know how common a tag or a tier is and
        # may walk every customer: plan each search for its own values (about a millisecond).
        # JIT compiling a search costs more than running it.
        await session.execute(
            text(
                "SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
                " set_config('jit', 'off', true)"
            )
        )
    where = conditions(query, principal, now, walk=await walk_in_order(session, query))
    customers = [
        CustomerLine(*row)
        for row in await session.execute(
            select(*LINE_COLUMNS)
            .where(*where)
            .order_by(*ordering(query.sort, session.get_bind().dialect.name))
            .offset(query.offset)
            .limit(query.limit)
        )
    ]
    if query.offset == 0 and len(customers) < query.limit:
        total = len(customers)  # the whole list is on this page: no need to count
    else:
        capped = select(Customer.id).where(*where).limit(COUNT_CAP + 1).subquery()
        total = int(await session.scalar(select(func.count()).select_from(capped)) or 0)
    rows = await describe(session, customers)
    return DirectoryPage(rows, min(total, COUNT_CAP), total > COUNT_CAP, query)


async def describe(session: AsyncSession, customers: Sequence[CustomerLine]) -> list[DirectoryRow]:
    """Each customer with their first email address and open ticket count (one query each)."""
    ids = [c.id for c in customers]
    if not ids:
        return []
    emails: dict[int, str] = {}
    # The kind is tested here, not in SQL: SQLite, which has no statistics, would read every
    # email identity through the (kind, name) index instead of the page's few customers'.
    for customer_id, kind, address in await session.execute(
        select(Identity.customer_id, Identity.kind, Identity.address)
        .where(Identity.customer_id.in_(ids))
        .order_by(Identity.id)
    ):
        if kind == "email":
            emails.setdefault(customer_id, address)
    counts: dict[int, int] = {}
    for customer_id, count in await session.execute(
        select(Conversation.customer_id, func.count(Ticket.id))
        .join(Ticket, Ticket.conversation_id == Conversation.id)
        .where(Conversation.customer_id.in_(ids), Ticket.status.in_(OPEN))
        .group_by(Conversation.customer_id)
    ):
        counts[customer_id] = int(count)
    return [DirectoryRow(c, emails.get(c.id), int(counts.get(c.id, 0))) for c in customers]

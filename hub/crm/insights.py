"""Insight lists: most active customers, repeated complaints, churn risk and highest value.
Each is a definition in the customer filter language (hub.core.customer_filters) plus an
ordering, so the list shown is exactly the audience a marketer gets when it is saved as a
segment (relative times such as "-14d" are evaluated when the segment is used)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement as _Element

from hub.config.crm import InsightSettings
from hub.core.authz import Principal
from hub.core.customer_filters import compile_filter
from hub.core.errors import ApiError, forbidden, invalid_field
from hub.crm import texts
from hub.crm.directory import DirectoryRow, describe, line_of
from hub.db.campaign_models import Segment
from hub.db.models import Conversation, Customer, Role, Ticket

Order = Callable[[datetime], ColumnElement[Any]]


@dataclass(frozen=True, slots=True)
class Insight:
    name: str
    title: str
    description: str
    definition: dict[str, Any]
    metric: str  # what the ordering number means
    value: Order  # the number per customer, as SQL
    descending: bool = True


@dataclass(frozen=True, slots=True)
class InsightRow:
    row: DirectoryRow
    value: float | None


class NumberAt(_Element[float]):
    """A customer attribute as a number, NULL when it is not one (never a cast error)."""

    inherit_cache = False
    type = Float()

    def __init__(self, key: str) -> None:
        self.key = key


@compiles(NumberAt)
def _sqlite(element: NumberAt, compiler: SQLCompiler, **kw: Any) -> str:
    path = compiler.process(literal(f'$."{element.key}"'), **kw)
    column = compiler.process(Customer.__table__.c.attributes, **kw)
    return (
        f"CASE WHEN json_type({column}, {path}) IN ('integer', 'real') "
        f"THEN json_extract({column}, {path}) END"
    )


@compiles(NumberAt, "postgresql")
def _postgresql(element: NumberAt, compiler: SQLCompiler, **kw: Any) -> str:
    key = compiler.process(literal(element.key), **kw)
    column = compiler.process(Customer.__table__.c.attributes, **kw)
    return (
        f"CASE WHEN jsonb_typeof({column} -> CAST({key} AS TEXT)) = 'number' "
        f"THEN CAST({column} ->> CAST({key} AS TEXT) AS DOUBLE PRECISION) END"
    )


def _count(statement: Select[Any]) -> ColumnElement[Any]:
    return (
        statement.where(Conversation.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )


def catalogue(settings: InsightSettings) -> dict[str, Insight]:
    s = settings

    def conversations_since(now: datetime) -> ColumnElement[Any]:
        start = now - timedelta(days=s.active_days)
        return _count(select(func.count(Conversation.id)).where(Conversation.created_at >= start))

    def tickets_since(now: datetime) -> ColumnElement[Any]:
        start = now - timedelta(days=s.complaint_days)
        return _count(
            select(func.count(Ticket.id))
            .join(Conversation, Conversation.id == Ticket.conversation_id)
            .where(Ticket.created_at >= start)
        )

    def last_contact(now: datetime) -> ColumnElement[Any]:
        return Customer.__table__.c.last_contact_at

    def value(now: datetime) -> ColumnElement[Any]:
        return NumberAt(s.value_attribute)

    found = [
        Insight(
            "most-active",
            "Most active customers",
            f"At least {s.active_min_conversations} conversations in the last "
            f"{s.active_days} days, most first.",
            {
                "field": "conversations_in_days",
                "op": "gte",
                "value": {"count": s.active_min_conversations, "days": s.active_days},
            },
            f"conversations in {s.active_days} days",
            conversations_since,
        ),
        Insight(
            "repeated-complaints",
            "Repeated complaints",
            f"{s.complaint_tickets} or more tickets in the last {s.complaint_days} days.",
            {
                "field": "tickets_in_days",
                "op": "gte",
                "value": {"count": s.complaint_tickets, "days": s.complaint_days},
            },
            f"tickets in {s.complaint_days} days",
            tickets_since,
        ),
        Insight(
            "churn-risk",
            "Churn risk",
            f"An open ticket and no contact for {s.churn_silent_days} days, or fewer "
            f"conversations in the last {s.churn_trend_days} days than in the "
            f"{s.churn_trend_days} before; longest silence first.",
            {
                "any": [
                    {
                        "all": [
                            {"field": "open_tickets", "op": "gte", "value": 1},
                            {
                                "field": "last_contact",
                                "op": "before",
                                "value": f"-{s.churn_silent_days}d",
                            },
                        ]
                    },
                    {
                        "field": "contact_trend",
                        "op": "falling",
                        "value": {"days": s.churn_trend_days},
                    },
                ]
            },
            "days without contact",
            last_contact,
            descending=False,
        ),
        Insight(
            "highest-value",
            "Highest-value customers",
            f"Customers whose {s.value_attribute} attribute is at least {s.value_min:g}, "
            "highest first.",
            {"field": f"attribute.{s.value_attribute}", "op": "gte", "value": s.value_min},
            s.value_attribute,
            value,
        ),
    ]
    return {insight.name: insight for insight in found}


def may_read(principal: Principal) -> bool:
    return principal.role in (Role.SUPERVISOR, Role.ADMIN, Role.MARKETER)


def insight_named(settings: InsightSettings, name: str) -> Insight:
    found = catalogue(settings).get(name)
    if found is None:
        raise texts.unknown_insight(name[:64])
    return found


async def run_insight(
    session: AsyncSession, insight: Insight, now: datetime, limit: int
) -> list[InsightRow]:
    number = insight.value(now).label("metric")
    order = number.desc() if insight.descending else number.asc()
    rows = (
        await session.execute(
            select(Customer, number)
            .where(Customer.merged_into_id.is_(None), compile_filter(insight.definition, now))
            .order_by(order.nulls_last(), Customer.id)
            .limit(limit)
        )
    ).all()
    described = await describe(session, [line_of(customer) for customer, _ in rows])
    return [
        InsightRow(row, _number(metric, now))
        for row, (_, metric) in zip(described, rows, strict=True)
    ]


def _number(metric: object, now: datetime) -> float | None:
    """The ordering value as shown: a count, an attribute, or whole days since a moment."""
    if isinstance(metric, int | float):
        return float(metric)
    if isinstance(metric, datetime):
        moment = metric if metric.tzinfo else metric.replace(tzinfo=now.tzinfo)
        return float((now - moment).days)
    return None


async def save_segment(
    session: AsyncSession,
    principal: Principal,
    insight: Insight,
    name: str,
    now: datetime,
) -> Segment:
    """The insight's definition as a new segment (``origin`` insight) that campaigns can use."""
    if not may_read(principal):
        raise forbidden(texts.SEGMENT_ACTION)
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise invalid_field("name", "is required (200 characters at most)")
    taken = await session.scalar(select(Segment.id).where(Segment.name == name))
    if taken is not None:
        raise segment_taken(name)
    segment = Segment(
        name=name,
        description=f"{insight.title}: {insight.description}",
        definition=insight.definition,
        origin="insight",
        created_by=principal.agent_id,
        created_at=now,
        updated_at=now,
    )
    session.add(segment)
    try:
        await session.flush()
    except IntegrityError:
        raise segment_taken(name) from None
    return segment


def segment_taken(name: str) -> ApiError:
    return invalid_field("name", f"a segment named {name[:80]!r} already exists")

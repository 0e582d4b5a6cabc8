"""One language for choosing customers, compiled to SQL: campaign segments, the customer
directory's filters and the CRM insight lists all use it, and it is never evaluated by loading
customers into Python.

A definition is JSON: ``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}`` or a condition
``{"field": F, "op": OP, "value": V}``. ``FIELDS`` lists every field with its operators; the
docs are in docs/segments.md. ``parse_filter`` checks a definition and names the first problem
by its path (``all[1].value``); ``compile_filter`` turns it into a condition over ``Customer``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)

from hub.core.consent import granted_on
from hub.core.customer_tags import normal_tag
from hub.core.json_sql import json_number
from hub.db.campaign_models import CampaignRecipient, RecipientState, SegmentMember
from hub.db.crm_models import CustomerTag
from hub.db.models import Conversation, Customer, Identity, Ticket, TicketStatus
from hub.db.routing_models import CsatResponse

MAX_DEPTH = 8
MAX_CONDITIONS = 100
MAX_TEXT = 500
MAX_NUMBER = 2**53  # exact as a float on every store
TEXT_FIELDS = ("tier", "company", "locale", "timezone", "name", "preferred_channel")
TEXT_OPS = ("eq", "ne", "in", "contains")
COMPARE_OPS = ("eq", "gt", "gte", "lt", "lte")
FIELDS: dict[str, tuple[str, ...]] = {
    **{name: TEXT_OPS for name in TEXT_FIELDS},
    "tag": ("has", "has_not"),
    "attribute.<key>": ("eq", "ne", "gt", "gte", "lt", "lte", "exists", "contains"),
    "identity": ("has", "has_not"),
    "last_contact": ("before", "after", "is_null"),
    "created": ("before", "after"),
    "open_tickets": COMPARE_OPS,
    "tickets_in_days": COMPARE_OPS,
    "conversations_in_days": COMPARE_OPS,
    "contact_trend": ("falling",),
    "csat_given": ("eq",),
    "campaign_received": ("eq",),
    "campaign_replied": ("eq",),
    "consent": ("has", "has_not"),
    "segment": ("in",),
}
IDENTITY_ALIASES = {"widget": "web", "chat": "web"}
_RELATIVE = re.compile(r"^-(\d{1,5})([hdw])$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
OPEN_TICKET = (TicketStatus.OPEN, TicketStatus.PENDING)


class FilterError(ValueError):
    """A definition that cannot be used; ``path`` says where (``all[1].value``)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path or 'filter'}: {problem}")
        self.path = path or "filter"
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class Group:
    mode: str  # all, any, not
    children: tuple[Filter, ...]


Filter = Condition | Group


def parse_filter(data: object) -> Filter:
    counter = [0]
    return _parse(data, "", 0, counter)


def _parse(data: object, path: str, depth: int, counter: list[int]) -> Filter:
    if depth > MAX_DEPTH:
        raise FilterError(path, f"nested deeper than {MAX_DEPTH} levels")
    if not isinstance(data, Mapping):
        raise FilterError(path, "must be an object")
    if "field" in data:
        counter[0] += 1
        if counter[0] > MAX_CONDITIONS:
            raise FilterError(path, f"more than {MAX_CONDITIONS} conditions")
        return _condition(data, path)
    modes = [key for key in ("all", "any", "not") if key in data]
    if len(modes) != 1 or len(data) != 1:
        raise FilterError(
            path, 'must be {"all": [...]}, {"any": [...]}, {"not": {...}} or a condition'
        )
    mode = modes[0]
    inner = data[mode]
    sub = f"{path}.{mode}" if path else mode
    if mode == "not":
        return Group("not", (_parse(inner, sub, depth + 1, counter),))
    if not isinstance(inner, list):
        raise FilterError(sub, "must be a list")
    return Group(
        mode, tuple(_parse(c, f"{sub}[{i}]", depth + 1, counter) for i, c in enumerate(inner))
    )


def _condition(data: Mapping[str, Any], path: str) -> Condition:
    def at(key: str) -> str:
        return f"{path}.{key}" if path else key

    extra = set(data) - {"field", "op", "value"}
    if extra:
        raise FilterError(at(sorted(extra)[0]), "unknown key")
    field, op, value = data.get("field"), data.get("op"), data.get("value")
    if not isinstance(field, str):
        raise FilterError(at("field"), "must be a string")
    key = "attribute.<key>" if field.startswith("attribute.") else field
    if key not in FIELDS:
        raise FilterError(at("field"), f"unknown field {field!r}; known: {', '.join(FIELDS)}")
    if key == "attribute.<key>" and not _ATTRIBUTE_KEY.match(field.removeprefix("attribute.")):
        raise FilterError(at("field"), "attribute names are 1-64 letters, digits, _ . -")
    if op not in FIELDS[key]:
        raise FilterError(at("op"), f"{field} takes {', '.join(FIELDS[key])}")
    return Condition(field, str(op), _value(key, str(op), value, at("value")))


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise FilterError(where, f"must be a non-empty text of at most {MAX_TEXT} characters")
    return value.strip()


def _int(value: object, where: str, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 10**9:
        raise FilterError(where, f"must be a whole number from {low}")
    return value


def _value(key: str, op: str, value: object, where: str) -> Any:
    if key in TEXT_FIELDS:
        if op == "in":
            if not isinstance(value, list) or not value or len(value) > MAX_CONDITIONS:
                raise FilterError(where, "must be a non-empty list")
            return tuple(_text(v, f"{where}[{i}]") for i, v in enumerate(value))
        return _text(value, where)
    if key in ("tag", "identity", "consent"):
        text = _text(value, where).lower()
        return IDENTITY_ALIASES.get(text, text) if key != "tag" else normal_tag(text)
    if key == "attribute.<key>":
        if op == "exists":
            if not isinstance(value, bool):
                raise FilterError(where, "must be true or false")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise FilterError(where, "must be a number or a text")
        if isinstance(value, int | float) and not abs(value) <= MAX_NUMBER:
            raise FilterError(where, f"must be a number between -{MAX_NUMBER} and {MAX_NUMBER}")
        if op in ("gt", "gte", "lt", "lte", "contains") and isinstance(value, str):
            return _text(value, where)
        return value
    if key in ("last_contact", "created"):
        if op == "is_null":
            if not isinstance(value, bool):
                raise FilterError(where, "must be true or false")
            return value
        return _when(value, where)
    if key == "open_tickets":
        return _int(value, where)
    if key in ("tickets_in_days", "conversations_in_days"):
        if not isinstance(value, Mapping) or set(value) != {"count", "days"}:
            raise FilterError(where, 'must be {"count": N, "days": M}')
        return (_int(value["count"], f"{where}.count"), _int(value["days"], f"{where}.days", 1))
    if key == "contact_trend":
        if not isinstance(value, Mapping) or set(value) != {"days"}:
            raise FilterError(where, 'must be {"days": N}')
        return _int(value["days"], f"{where}.days", 1)
    if key == "csat_given":
        if not isinstance(value, bool):
            raise FilterError(where, "must be true or false")
        return value
    if key in ("campaign_received", "campaign_replied"):
        return _int(value, where, 1)
    # segment
    if not isinstance(value, list) or not value or len(value) > MAX_CONDITIONS:
        raise FilterError(where, "must be a non-empty list of segment ids")
    return tuple(_int(v, f"{where}[{i}]", 1) for i, v in enumerate(value))


def _when(value: object, where: str) -> str:
    """A moment: ISO 8601 with a timezone, a date (``2026-01-31``: midnight UTC), ``now``, or
    relative like ``-30d``, ``-12h``, ``-2w``."""
    if isinstance(value, str) and (value == "now" or _RELATIVE.match(value)):
        return value
    if isinstance(value, str) and _DATE.match(value):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise FilterError(where, f"{value} is not a date") from None
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return value
    raise FilterError(
        where, 'must be a date (2026-01-31), an ISO date-time with a timezone, "now" or like "-30d"'
    )


def resolve_when(value: str, now: datetime) -> datetime:
    if value == "now":
        return now
    match = _RELATIVE.match(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        hours = {"h": 1, "d": 24, "w": 24 * 7}[unit]
        return now - timedelta(hours=amount * hours)
    if _DATE.match(value):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return datetime.fromisoformat(value).astimezone(UTC)


def compile_filter(
    definition: Mapping[str, Any] | Filter, now: datetime, *, first_by_id: bool = False
) -> ColumnElement[bool]:
    """The SQL condition over ``Customer`` for a definition (raises ``FilterError``). A tag
    or an identity kind reads its customers through its index, which suits a count or the
    whole set; with ``first_by_id`` (a sample: the first few members by id) it is checked
    customer by customer instead, so the walk along the ids stops at the first few."""
    tree = definition if isinstance(definition, Condition | Group) else parse_filter(definition)
    return _compile(tree, now, first_by_id)


def members(definition: Mapping[str, Any] | Filter, now: datetime) -> Select[Any]:
    """The ids of the (not merged-away) customers a definition selects."""
    return select(Customer.id).where(
        Customer.merged_into_id.is_(None), compile_filter(definition, now)
    )


def _per_customer(count: Select[Any]) -> ColumnElement[int]:
    """A count over one customer's conversations, correlated to the outer ``Customer``."""
    return (
        count.where(Conversation.customer_id == Customer.id).correlate(Customer).scalar_subquery()
    )


def _compile(node: Filter, now: datetime, first_by_id: bool) -> ColumnElement[bool]:
    if isinstance(node, Group):
        parts = [_compile(child, now, first_by_id) for child in node.children]
        if node.mode == "not":
            return not_(parts[0])
        if not parts:
            return true() if node.mode == "all" else false()
        return and_(*parts) if node.mode == "all" else or_(*parts)
    return _leaf(node, now, first_by_id)


def _compare(left: Any, op: str, right: Any) -> ColumnElement[bool]:
    result: ColumnElement[bool] = {
        "eq": lambda: left == right,
        "ne": lambda: left != right,
        "gt": lambda: left > right,
        "gte": lambda: left >= right,
        "lt": lambda: left < right,
        "lte": lambda: left <= right,
    }[op]()
    return result


def _leaf(node: Condition, now: datetime, first_by_id: bool) -> ColumnElement[bool]:
    field, op, value = node.field, node.op, node.value
    if field in TEXT_FIELDS:
        column: ColumnElement[str] = getattr(Customer, field)
        if op == "in":
            return column.in_(list(value))
        if op == "contains":
            return func.lower(column).contains(value.lower(), autoescape=True)
        if op == "ne":
            return or_(column.is_(None), column != value)
        equal: ColumnElement[bool] = column == value
        return equal
    if field == "tag":
        if op == "has" and not first_by_id:
            return Customer.id.in_(select(CustomerTag.customer_id).where(CustomerTag.tag == value))
        has = exists().where(CustomerTag.customer_id == Customer.id, CustomerTag.tag == value)
        return has if op == "has" else not_(has)
    if field.startswith("attribute."):
        item: Any = Customer.attributes[field.removeprefix("attribute.")]
        if op == "exists":
            stored: ColumnElement[bool] = item.as_string().is_not(None)
            return stored if value else not_(stored)
        if op == "contains":
            text: ColumnElement[str] = func.lower(item.as_string())
            return text.contains(str(value).lower(), autoescape=True)
        if isinstance(value, int | float):
            number = json_number(Customer.__table__.c.attributes, field.removeprefix("attribute."))
            return and_(number.is_not(None), _compare(number, op, value))
        return _compare(item.as_string(), op, value)
    if field == "identity":
        if op == "has" and not first_by_id:
            return Customer.id.in_(select(Identity.customer_id).where(Identity.kind == value))
        has = exists().where(Identity.customer_id == Customer.id, Identity.kind == value)
        return has if op == "has" else not_(has)
    if field in ("last_contact", "created"):
        moment_column = Customer.last_contact_at if field == "last_contact" else Customer.created_at
        if op == "is_null":
            return moment_column.is_(None) if value else moment_column.is_not(None)
        moment = resolve_when(value, now)
        return moment_column < moment if op == "before" else moment_column >= moment
    if field == "open_tickets":
        count = _per_customer(
            select(func.count(Ticket.id))
            .join(Conversation, Conversation.id == Ticket.conversation_id)
            .where(Ticket.status.in_(OPEN_TICKET))
        )
        return _compare(count, op, value)
    if field == "tickets_in_days":
        number, days = value
        start = now - timedelta(days=days)
        count = _per_customer(
            select(func.count(Ticket.id))
            .join(Conversation, Conversation.id == Ticket.conversation_id)
            .where(Ticket.created_at >= start)
        )
        return _compare(count, op, number)
    if field == "conversations_in_days":
        number, days = value
        start = now - timedelta(days=days)
        count = _per_customer(
            select(func.count(Conversation.id)).where(Conversation.created_at >= start)
        )
        return _compare(count, op, number)
    if field == "contact_trend":
        recent_start, earlier_start = now - timedelta(days=value), now - timedelta(days=2 * value)
        recent = _per_customer(
            select(func.count(Conversation.id)).where(Conversation.created_at >= recent_start)
        )
        earlier = _per_customer(
            select(func.count(Conversation.id)).where(
                Conversation.created_at >= earlier_start, Conversation.created_at < recent_start
            )
        )
        return recent < earlier
    if field == "csat_given":
        given = exists().where(
            CsatResponse.conversation_id == Conversation.id,
            Conversation.customer_id == Customer.id,
        )
        return given if value else not_(given)
    if field in ("campaign_received", "campaign_replied"):
        done = (
            CampaignRecipient.state == RecipientState.SENT
            if field == "campaign_received"
            else CampaignRecipient.replied_at.is_not(None)
        )
        return exists().where(
            CampaignRecipient.campaign_id == value,
            CampaignRecipient.customer_id == Customer.id,
            done,
        )
    if field == "consent":
        granted = granted_on(None if value == "any" else [value])
        return granted if op == "has" else not_(granted)
    # segment: static members (a CSV import)
    return exists().where(
        SegmentMember.customer_id == Customer.id, SegmentMember.segment_id.in_(list(value))
    )

"""Editing a customer profile: tier, tags, custom attributes, company, name and notes, by
supervisors and admins only, every changed field written to the audit trail (who, when, old ->
new) in the same transaction as the change."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.crm import CrmSettings
from hub.core.authz import Principal
from hub.core.customer_tags import TagError, parse_tags, set_tags
from hub.core.customers import name_key
from hub.core.errors import forbidden, invalid_field
from hub.crm import texts
from hub.db.crm_models import CustomerChange
from hub.db.models import Customer, Role

AttributeValue = str | int | float | bool
ATTRIBUTE_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$")
MAX_NOTES = 20_000
MAX_VALUE = 1000


def may_edit(principal: Principal) -> bool:
    return principal.role in (Role.SUPERVISOR, Role.ADMIN)


def check_editor(principal: Principal) -> None:
    if not may_edit(principal):
        raise forbidden(texts.EDIT_ACTION)


@dataclass(frozen=True, slots=True)
class CustomerEdit:
    """What to change; None leaves a field as it is. ``attributes`` sets keys (a None value
    removes the key); ``replace_attributes`` makes the given keys the only ones."""

    name: str | None = None
    company: str | None = None
    tier: str | None = None
    tags: list[str] | None = None
    notes: str | None = None
    attributes: dict[str, AttributeValue | None] = field(default_factory=dict)
    replace_attributes: bool = False


def shown(value: Any) -> str:
    """A value as the audit trail shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def typed_value(text: str) -> AttributeValue:
    """A value typed into a form or a CSV cell: a whole or decimal number, true/false, or text
    (so that insight lists and segments compare numbers as numbers)."""
    cleaned = text.strip()
    if cleaned in ("true", "false"):
        return cleaned == "true"
    if re.fullmatch(r"-?\d{1,15}", cleaned):
        return int(cleaned)
    if re.fullmatch(r"-?\d{1,15}\.\d{1,15}", cleaned):
        return float(cleaned)
    return cleaned


def check_attribute(key: str, value: object) -> None:
    if not ATTRIBUTE_KEY.match(key):
        problem = texts.ATTRIBUTE_KEY_PROBLEM.format(key=key[:70])
        raise invalid_field(f"attributes.{key[:64]}", problem)
    if value is not None and not isinstance(value, AttributeValue):
        raise invalid_field(f"attributes.{key}", texts.ATTRIBUTE_VALUE_PROBLEM)
    if isinstance(value, str) and len(value) > MAX_VALUE:
        raise invalid_field(f"attributes.{key}", f"{MAX_VALUE} characters at most")


def validated(edit: CustomerEdit, settings: CrmSettings) -> CustomerEdit:
    """``edit`` with its tags normalised, or the first problem as a 422 naming the field."""
    if edit.tier is not None and edit.tier not in settings.tiers:
        raise invalid_field("tier", texts.TIER_PROBLEM.format(tiers=", ".join(settings.tiers)))
    if edit.name is not None and len(edit.name) > 300:
        raise invalid_field("name", texts.NAME_PROBLEM)
    if edit.company is not None and len(edit.company) > 300:
        raise invalid_field("company", texts.COMPANY_PROBLEM)
    if edit.notes is not None and len(edit.notes) > MAX_NOTES:
        raise invalid_field("notes", texts.NOTES_PROBLEM)
    for key, value in edit.attributes.items():
        check_attribute(key, value)
    tags = edit.tags
    if tags is not None:
        try:
            tags = parse_tags(tags)
        except TagError as exc:
            raise invalid_field("tags", str(exc)) from None
    return CustomerEdit(
        name=" ".join(edit.name.split()) if edit.name is not None else None,
        company=edit.company.strip() if edit.company is not None else None,
        tier=edit.tier,
        tags=tags,
        notes=edit.notes.replace("\r\n", "\n") if edit.notes is not None else None,
        attributes=dict(edit.attributes),
        replace_attributes=edit.replace_attributes,
    )


async def apply_edit(
    session: AsyncSession,
    customer: Customer,
    edit: CustomerEdit,
    *,
    agent_id: int | None,
    source: str,
    now: datetime,
) -> list[CustomerChange]:
    """Apply a validated edit and audit each field that really changed."""
    changes: list[tuple[str, Any, Any]] = []
    if edit.name is not None and edit.name != customer.name:
        changes.append(("name", customer.name, edit.name))
        customer.name, customer.name_key = edit.name, name_key(edit.name)
    if edit.company is not None and edit.company != customer.company:
        changes.append(("company", customer.company, edit.company))
        customer.company = edit.company
    if edit.tier is not None and edit.tier != customer.tier:
        changes.append(("tier", customer.tier, edit.tier))
        customer.tier = edit.tier
    if edit.tags is not None and edit.tags != list(customer.tags or []):
        changes.append(("tags", list(customer.tags or []), edit.tags))
        await set_tags(session, customer, edit.tags)
    if edit.notes is not None and edit.notes != customer.notes:
        changes.append(("notes", customer.notes, edit.notes))
        customer.notes = edit.notes
    before = dict(customer.attributes or {})
    after = {} if edit.replace_attributes else dict(before)
    for key, value in edit.attributes.items():
        if value is None:
            after.pop(key, None)
        else:
            after[key] = value
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key) or (key in before) != (key in after):
            changes.append((f"attribute.{key}", before.get(key), after.get(key)))
    if after != before:
        customer.attributes = after
    rows = [
        CustomerChange(
            customer_id=customer.id,
            agent_id=agent_id,
            source=source,
            field=name,
            old_value=shown(old),
            new_value=shown(new),
            created_at=now,
        )
        for name, old, new in changes
    ]
    session.add_all(rows)
    return rows


async def history(
    session: AsyncSession, customer_id: int, limit: int = 200
) -> list[CustomerChange]:
    return list(
        (
            await session.scalars(
                select(CustomerChange)
                .where(CustomerChange.customer_id == customer_id)
                .order_by(CustomerChange.id.desc())
                .limit(limit)
            )
        ).all()
    )

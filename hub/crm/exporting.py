"""Customers out as CSV: the directory's filtered list streamed in batches, in the columns the
import reads back (hub/crm/importing.py), so an export imports back unchanged."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.authz import Principal
from hub.crm.directory import DirectoryQuery, conditions
from hub.db.models import Customer, Identity

COLUMNS = (
    "id", "name", "company", "tier", "tags", "email", "phone", "telegram", "slack", "locale",
    "timezone", "attributes", "notes", "last_contact_at", "created_at",
)  # fmt: skip
IDENTITY_COLUMNS = {"email": "email", "phone": "phone", "telegram": "telegram", "slack": "slack"}
BATCH = 500


def _line(values: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def _cell(value: str) -> str:
    """Spreadsheets run a cell starting with = + - @ as a formula; a quote keeps it text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") and not _is_phone(value) else value


def _is_phone(value: str) -> bool:
    return value.startswith("+") and value[1:].replace(";+", "").isdigit()


async def export_csv(
    session: AsyncSession, principal: Principal, query: DirectoryQuery, now: datetime
) -> AsyncIterator[str]:
    """The header, then the matching customers by id, ``BATCH`` at a time."""
    yield _line(list(COLUMNS))
    where = conditions(query, principal, now)
    after = 0
    while True:
        customers = list(
            (
                await session.scalars(
                    select(Customer)
                    .where(*where, Customer.id > after)
                    .order_by(Customer.id)
                    .limit(BATCH)
                )
            ).all()
        )
        if not customers:
            return
        ids = [c.id for c in customers]
        found: dict[int, dict[str, list[str]]] = {}
        for identity in await session.scalars(
            select(Identity).where(Identity.customer_id.in_(ids)).order_by(Identity.id)
        ):
            if identity.kind in IDENTITY_COLUMNS:
                kinds = found.setdefault(identity.customer_id, {})
                kinds.setdefault(identity.kind, []).append(identity.address)
        chunk = io.StringIO()
        writer = csv.writer(chunk)
        for c in customers:
            kinds = found.get(c.id, {})
            writer.writerow(
                [
                    str(c.id),
                    _cell(c.name),
                    _cell(c.company),
                    c.tier,
                    "; ".join(c.tags or []),
                    *("; ".join(kinds.get(kind, [])) for kind in IDENTITY_COLUMNS),
                    c.locale,
                    c.timezone,
                    json.dumps(c.attributes or {}, ensure_ascii=False, sort_keys=True),
                    _cell(c.notes),
                    c.last_contact_at.isoformat() if c.last_contact_at else "",
                    c.created_at.isoformat(),
                ]
            )
        yield chunk.getvalue()
        after = ids[-1]

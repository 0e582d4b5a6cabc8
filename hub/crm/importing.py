"""Customers in from CSV: create or update customers with their identities, tier, tags,
attributes and notes. Every row is checked first and, if any row has a problem, nothing at all is
written and each problem is reported with its row number and column; otherwise all rows are
written in one transaction, and changes to existing customers are audited like any edit."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.crm import CrmSettings
from hub.core.customers import name_key
from hub.core.errors import ApiError
from hub.crm import texts
from hub.crm.directory import phone_key
from hub.crm.edits import CustomerEdit, apply_edit, typed_value, validated
from hub.crm.exporting import COLUMNS, IDENTITY_COLUMNS
from hub.db.crm_models import CustomerChange
from hub.db.models import Customer, Identity


@dataclass(frozen=True, slots=True)
class Problem:
    row: int  # the line in the file: the header is row 1
    field: str
    problem: str


@dataclass
class _Row:
    number: int
    customer: Customer | None
    edit: CustomerEdit
    locale: str | None
    timezone: str | None
    identities: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    problems: list[Problem]

    def refusal(self) -> ApiError:
        return texts.import_refused([(p.row, p.field, p.problem) for p in self.problems])


def read_rows(data: bytes, settings: CrmSettings) -> list[dict[str, str]]:
    """The file's rows keyed by column (lower-cased); unreadable files are a 400."""
    if len(data) > settings.import_max_bytes:
        raise texts.csv_unreadable(f"larger than {settings.import_max_bytes} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise texts.csv_unreadable("it is not UTF-8 text") from None
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = [h.strip().lower() for h in next(reader, [])]
        rows: list[dict[str, str]] = []
        for values in reader:
            if len(rows) >= settings.import_max_rows:
                raise texts.csv_unreadable(f"more than {settings.import_max_rows} rows")
            if any(v.strip() for v in values):
                rows.append(
                    dict(zip(header, values, strict=False)) | {"": ",".join(values[len(header) :])}
                )
            else:
                rows.append({})
    except csv.Error as exc:
        raise texts.csv_unreadable(str(exc)) from None
    if not header or not any(h in ("id", "name", "email", "phone") for h in header):
        raise texts.csv_unreadable("the first line must name the columns (id, name, email, ...)")
    unknown = [h for h in header if h not in COLUMNS and not h.startswith("attribute.")]
    if unknown:
        raise texts.csv_unreadable(f"unknown column {unknown[0]!r}")
    return rows


def _identities(raw: dict[str, str], problems: list[Problem], number: int) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for column, kind in IDENTITY_COLUMNS.items():
        for part in (raw.get(column) or "").split(";"):
            value = part.strip()
            if not value:
                continue
            if kind == "email":
                value = value.lower()
                local, _, domain = value.partition("@")
                if not local or "." not in domain or " " in value or len(value) > 320:
                    problems.append(
                        Problem(number, column, f"{value[:80]!r} is not an email address")
                    )
                    continue
            elif kind == "phone":
                phone = phone_key(value)
                if len(phone) < 7 or len(phone) > 17:
                    problems.append(
                        Problem(number, column, f"{value[:80]!r} is not a phone number")
                    )
                    continue
                value = phone
            elif len(value) > 320:
                problems.append(Problem(number, column, "320 characters at most"))
                continue
            found.append((kind, value))
    return found


def _text(raw: dict[str, str], column: str) -> str:
    """A text cell, without the quote the export puts before = + - @ (exporting._cell)."""
    value = raw.get(column) or ""
    return value[1:] if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@") else value


def _edit(
    raw: dict[str, str], settings: CrmSettings, number: int, problems: list[Problem]
) -> CustomerEdit | None:
    attributes: dict[str, Any] = {}
    text = (raw.get("attributes") or "").strip()
    if text:
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict):
            problems.append(
                Problem(number, "attributes", 'must be a JSON object, e.g. {"plan": "pro"}')
            )
            return None
        attributes.update(parsed)
    for column, value in raw.items():
        if column.startswith("attribute.") and value.strip():
            attributes[column.removeprefix("attribute.")] = typed_value(value)
    edit = CustomerEdit(
        name=_text(raw, "name").strip() or None,
        company=_text(raw, "company").strip() or None,
        tier=(raw.get("tier") or "").strip().lower() or None,
        tags=[t for t in (raw.get("tags") or "").replace(",", ";").split(";")]
        if (raw.get("tags") or "").strip()
        else None,
        notes=_text(raw, "notes") or None,
        attributes=attributes,
    )
    try:
        return validated(edit, settings)
    except ApiError as exc:
        for name, problem in exc.fields.items():
            problems.append(Problem(number, name, problem))
        return None


async def _check_row(
    session: AsyncSession,
    raw: dict[str, str],
    number: int,
    settings: CrmSettings,
    claimed: dict[tuple[str, str], int],
    problems: list[Problem],
) -> _Row | None:
    before = len(problems)
    if raw.get(""):
        problems.append(Problem(number, "", "more values than columns"))
    identities = _identities(raw, problems, number)
    edit = _edit(raw, settings, number, problems)
    locale = (raw.get("locale") or "").strip() or None
    if locale is not None and (
        len(locale) > 35 or not locale.replace("-", "").replace("_", "").isalnum()
    ):
        problems.append(Problem(number, "locale", f"{locale[:40]!r} is not a language tag"))
    zone = (raw.get("timezone") or "").strip() or None
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(Problem(number, "timezone", f"{zone[:64]!r} is not a time zone"))
    customer: Customer | None = None
    ident = (raw.get("id") or "").strip()
    if ident:
        customer = (
            await session.get(Customer, int(ident))
            if ident.isascii() and ident.isdigit() and len(ident) < 10
            else None
        )
        if customer is None or customer.merged_into_id is not None:
            problems.append(Problem(number, "id", f"no customer {ident[:20]}"))
            customer = None
    for kind, address in identities:
        column = next(c for c, k in IDENTITY_COLUMNS.items() if k == kind)
        if (kind, address) in claimed:
            problems.append(
                Problem(number, column, f"{address} is also in row {claimed[(kind, address)]}")
            )
            continue
        claimed[(kind, address)] = number
        owner = await session.scalar(
            select(Identity.customer_id).where(Identity.kind == kind, Identity.address == address)
        )
        if owner is None:
            continue
        if customer is None and not ident:
            customer = await session.get(Customer, owner)
        elif customer is not None and owner != customer.id:
            problems.append(Problem(number, column, f"{address} belongs to customer {owner}"))
    if customer is None and not ident and not identities and edit is not None and not edit.name:
        problems.append(Problem(number, "name", "a new customer needs a name or an address"))
    if len(problems) > before or edit is None:
        return None
    return _Row(number, customer, edit, locale, zone, identities)


async def import_csv(
    session: AsyncSession,
    data: bytes,
    settings: CrmSettings,
    *,
    agent_id: int,
    now: datetime,
) -> ImportResult:
    """Check every row, then (only if none has a problem) write them all. The caller commits."""
    rows = read_rows(data, settings)
    problems: list[Problem] = []
    claimed: dict[tuple[str, str], int] = {}
    checked: list[_Row] = []
    for index, raw in enumerate(rows, start=2):
        if not raw:
            continue
        row = await _check_row(session, raw, index, settings, claimed, problems)
        if row is not None:
            checked.append(row)
    if problems:
        return ImportResult(0, 0, problems)
    created = updated = 0
    for row in checked:
        customer = row.customer
        if customer is None:
            customer = Customer(
                name="", name_key="", company="", tier=settings.tiers[0], tags=[],
                attributes={}, consent={}, notes="", created_at=now, last_contact_at=None,
            )  # fmt: skip
            session.add(customer)
            await session.flush()
            created += 1
            session.add(
                CustomerChange(
                    customer_id=customer.id, agent_id=agent_id, source="import",
                    field="created", old_value="", new_value="imported", created_at=now,
                )
            )  # fmt: skip
        else:
            updated += 1
        await apply_edit(session, customer, row.edit, agent_id=agent_id, source="import", now=now)
        if not customer.name_key and customer.name:
            customer.name_key = name_key(customer.name)
        if row.locale is not None:
            customer.locale = row.locale
        if row.timezone is not None:
            customer.timezone = row.timezone
        existing = {
            (i.kind, i.address)
            for i in await session.scalars(
                select(Identity).where(Identity.customer_id == customer.id)
            )
        }
        for kind, address in row.identities:
            if (kind, address) not in existing:
                session.add(
                    Identity(
                        customer_id=customer.id, kind=kind, address=address,
                        display_name=customer.name, created_at=now,
                    )
                )  # fmt: skip
    return ImportResult(created, updated, [])

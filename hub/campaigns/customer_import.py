"""CSV import of customers into a segment, all or nothing.

The first line names the columns (any order, any subset): ``name, email, phone, telegram,
slack, company, tier, tags`` (``;``-separated), ``attribute.<key>``, ``locale``, ``timezone``,
``consent`` (``yes``/``no``). Every row is checked before anything is written; a file with a
problem on any row imports nothing and reports each problem with its row (the header is row 1)
and column. A customer that already has one of the row's addresses (email normalised) is
updated, never duplicated; every imported customer becomes a static member of the segment;
``consent`` records consent on the row's addresses with the source ``import``. The writes are
set-based (bulk reads and inserts in chunks) in the caller's one transaction."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, cast
from zoneinfo import available_timezones

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.validation import clean_line, normalize_email
from hub.campaigns import audience_texts as texts
from hub.campaigns.consent_records import Address, record_many
from hub.campaigns.segments import get_segment, with_static
from hub.config.settings import Settings
from hub.core.customer_tags import set_tag_rows
from hub.core.customers import name_key
from hub.core.errors import ApiError
from hub.db.campaign_models import ConsentSource, ConsentState, SegmentMember
from hub.db.models import Customer, Identity

DEFAULT_TIERS = ("standard", "silver", "gold", "platinum")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_REPORTED = 200
CHUNK = 500
COLUMNS = (
    "name",
    "email",
    "phone",
    "telegram",
    "slack",
    "company",
    "tier",
    "tags",
    "locale",
    "timezone",
    "consent",
)
IDENTITY_COLUMNS = ("email", "telegram", "slack")
LIMITS = {"name": 300, "company": 300, "attribute": 500}
_TELEGRAM = re.compile(r"^[0-9]{1,20}$")
_SLACK = re.compile(r"^[UWB][A-Z0-9]{2,30}$")
_PHONE = re.compile(r"^\+?[0-9 ()\-.]{5,30}$")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$")
_TAG = re.compile(r"^[\w][\w \-]{0,63}$")
_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_INTEGER = re.compile(r"^-?[0-9]{1,15}$")
_DECIMAL = re.compile(r"^-?[0-9]{1,15}\.[0-9]{1,10}$")
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # the header is row 1
    column: str
    problem: str


class ImportRejected(Exception):
    """Rows with problems; nothing was written."""

    def __init__(self, problems: Sequence[RowProblem], total: int) -> None:
        first = problems[0]
        super().__init__(f"row {first.row}, {first.column}: {first.problem}")
        self.problems = tuple(problems)
        self.total = total

    def error(self) -> ApiError:
        first = self.problems[0]
        rows: dict[str, str] = {}
        for problem in self.problems:
            rows.setdefault(f"row {problem.row}: {problem.column or 'row'}", problem.problem)
        return texts.import_rejected(
            self.total, f"row {first.row}, {first.column}: {first.problem}", rows
        )


@dataclass(slots=True)
class ImportRow:
    row: int
    addresses: list[tuple[str, str]] = field(default_factory=list)  # (kind, address)
    values: dict[str, str] = field(default_factory=dict)  # name, company, tier, locale, timezone
    tags: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    consent: bool | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    rows: int
    created: int
    updated: int
    added_to_segment: int
    consents_recorded: int


def tiers_of(settings: Settings) -> tuple[str, ...]:
    """The tiers people may choose: the CRM's list when the hub has one, else the defaults."""
    crm = getattr(settings, "crm", None)
    tiers = getattr(crm, "tiers", None)
    return tuple(tiers) if tiers else DEFAULT_TIERS


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones() | {"UTC"})


def _number_or_text(value: str) -> Any:
    if _INTEGER.match(value):
        return int(value)
    if _DECIMAL.match(value):
        return float(value)
    return value


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise texts.import_unreadable(
            f"it is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8"
        ) from None


def _header(names: list[str]) -> list[str]:
    columns = [name.strip().lower() for name in names]
    problems: list[RowProblem] = []
    seen: set[str] = set()
    for original, column in zip(names, columns, strict=True):
        if column.startswith("attribute."):
            if not _ATTRIBUTE_KEY.match(original.strip()[len("attribute.") :]):
                problems.append(RowProblem(1, original.strip(), texts.BAD_ATTRIBUTE_KEY))
        elif column not in COLUMNS:
            problems.append(
                RowProblem(
                    1, original.strip(), texts.UNKNOWN_COLUMN.format(column=original.strip())
                )
            )
        if column in seen:
            problems.append(RowProblem(1, column, texts.DUPLICATE_COLUMN.format(column=column)))
        seen.add(column)
    if not seen & set(IDENTITY_COLUMNS):
        problems.append(RowProblem(1, "email", texts.NO_IDENTITY_COLUMN))
    if problems:
        raise ImportRejected(problems[:MAX_REPORTED], len(problems))
    # attribute keys keep their case
    return [
        f"attribute.{n.strip()[len('attribute.') :]}" if c.startswith("attribute.") else c
        for n, c in zip(names, columns, strict=True)
    ]


class _RowChecker:
    def __init__(self, tiers: Iterable[str]) -> None:
        self.tiers = {tier.lower(): tier for tier in tiers}
        self.problems: list[RowProblem] = []
        self.total = 0

    def problem(self, row: int, column: str, problem: str) -> None:
        self.total += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(RowProblem(row, column, problem))

    def check(self, number: int, columns: list[str], cells: list[str]) -> ImportRow | None:
        if len(cells) != len(columns):
            self.problem(
                number,
                "",
                texts.WRONG_FIELD_COUNT.format(found=len(cells), expected=len(columns)),
            )
            return None
        before = self.total
        row = ImportRow(number)
        for column, raw in zip(columns, cells, strict=True):
            value = raw.strip()
            if value:
                self._cell(row, column, value)
        if not row.addresses and self.total == before:
            self.problem(number, "email", texts.ROW_NEEDS_IDENTITY)
        return row if self.total == before else None

    def _cell(self, row: ImportRow, column: str, value: str) -> None:
        number = row.row
        if "\x00" in value:
            self.problem(number, column, "contains a NUL character")
        elif column == "email":
            email = normalize_email(value)
            if email is None:
                self.problem(number, column, texts.BAD_EMAIL.format(value=value[:80]))
            else:
                row.addresses.append(("email", email))
        elif column == "telegram":
            if not _TELEGRAM.match(value):
                self.problem(number, column, texts.BAD_TELEGRAM.format(value=value[:80]))
            else:
                row.addresses.append(("telegram", value))
        elif column == "slack":
            if not _SLACK.match(value):
                self.problem(number, column, texts.BAD_SLACK.format(value=value[:80]))
            else:
                row.addresses.append(("slack", value))
        elif column == "phone":
            if not _PHONE.match(value):
                self.problem(number, column, texts.BAD_PHONE.format(value=value[:80]))
            else:
                row.attributes["phone"] = value
        elif column in ("name", "company"):
            text = clean_line(value, 10_000)
            if len(text) > LIMITS[column]:
                self.problem(number, column, texts.TOO_LONG.format(limit=LIMITS[column]))
            else:
                row.values[column] = text
        elif column == "tier":
            tier = self.tiers.get(value.lower())
            if tier is None:
                known = ", ".join(self.tiers.values())
                self.problem(
                    number, column, texts.UNKNOWN_TIER.format(value=value[:40], known=known)
                )
            else:
                row.values["tier"] = tier
        elif column == "tags":
            self._tags(row, value)
        elif column == "locale":
            if not _LOCALE.match(value) or len(value) > 35:
                self.problem(number, column, texts.BAD_LOCALE.format(value=value[:40]))
            else:
                row.values["locale"] = value.replace("_", "-")
        elif column == "timezone":
            if value not in _zones():
                self.problem(number, column, texts.BAD_TIMEZONE.format(value=value[:64]))
            else:
                row.values["timezone"] = value
        elif column == "consent":
            answer = value.lower()
            if answer not in YES | NO:
                self.problem(number, column, texts.BAD_CONSENT.format(value=value[:20]))
            else:
                row.consent = answer in YES
        else:  # attribute.<key>
            if len(value) > LIMITS["attribute"]:
                self.problem(number, column, texts.TOO_LONG.format(limit=LIMITS["attribute"]))
            else:
                row.attributes[column.removeprefix("attribute.")] = _number_or_text(value)

    def _tags(self, row: ImportRow, value: str) -> None:
        for part in value.split(";"):
            tag = " ".join(part.strip().lower().split())
            if not tag:
                continue
            if not _TAG.match(tag):
                self.problem(row.row, "tags", texts.BAD_TAG.format(value=tag[:70]))
            elif tag not in row.tags:
                row.tags.append(tag)


def read_rows(
    data: bytes, tiers: Iterable[str] = DEFAULT_TIERS, *, max_rows: int = MAX_ROWS
) -> list[ImportRow]:
    """Every row of the file, checked; a file-level problem is an ``ApiError``, row problems
    are one ``ImportRejected`` listing them (each at most ``MAX_REPORTED``)."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise texts.import_unreadable(texts.EMPTY_FILE)
        columns = _header(header)
        checker = _RowChecker(tiers)
        rows: list[ImportRow] = []
        seen: dict[tuple[str, str], int] = {}
        for index, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines
            if len(rows) + checker.total >= max_rows:
                raise texts.import_too_many_rows(max_rows)
            row = checker.check(index, columns, cells)
            if row is None:
                continue
            for kind, address in row.addresses:
                earlier = seen.get((kind, address))
                if earlier is not None:
                    checker.problem(
                        index, kind, texts.SAME_IDENTITY_TWICE.format(value=address, row=earlier)
                    )
                    row = None
                    break
                seen[(kind, address)] = index
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        raise texts.import_unreadable(f"line {reader.line_num}: {exc}") from None
    if checker.problems:
        raise ImportRejected(checker.problems, checker.total)
    return rows


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _owners(
    session: AsyncSession, rows: list[ImportRow]
) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """(kind, address) -> identity id and -> the (surviving) customer that has it."""
    by_kind: dict[str, list[str]] = {}
    for row in rows:
        for kind, address in row.addresses:
            by_kind.setdefault(kind, []).append(address)
    identity_ids: dict[tuple[str, str], int] = {}
    owners: dict[tuple[str, str], int] = {}
    for kind, addresses in by_kind.items():
        for chunk in _chunks(addresses):
            found = await session.execute(
                select(Identity.id, Identity.address, Identity.customer_id).where(
                    Identity.kind == kind, Identity.address.in_(chunk)
                )
            )
            for identity_id, address, customer_id in found:
                identity_ids[(kind, address)] = identity_id
                owners[(kind, address)] = customer_id
    # follow merges to the customer that absorbed a merged-away one
    merged = await _merged_into(session, set(owners.values()))
    return identity_ids, {key: merged.get(value, value) for key, value in owners.items()}


async def _merged_into(session: AsyncSession, ids: set[int]) -> dict[int, int]:
    result: dict[int, int] = {}
    pending = list(ids)
    for _ in range(10):
        step: dict[int, int] = {}
        for chunk in _chunks(pending):
            rows = await session.execute(
                select(Customer.id, Customer.merged_into_id).where(
                    Customer.id.in_(chunk), Customer.merged_into_id.is_not(None)
                )
            )
            step.update({row[0]: row[1] for row in rows if row[1] is not None})
        if not step:
            break
        for original, target in list(result.items()):
            result[original] = step.get(target, target)
        for source, target in step.items():
            result.setdefault(source, target)
        pending = list(set(step.values()))
    return result


async def _allocate_ids(session: AsyncSession, table: str, count: int) -> list[int]:
    """``count`` fresh primary keys of ``table`` (``customers`` or ``identities``), so that
    rows can be inserted in bulk without ``RETURNING`` one by one: the table's sequence on
    PostgreSQL; on SQLite (one writer at a time) the ids after the largest."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = await session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table, "n": count},
        )
        return sorted(int(value) for value in rows)
    column = Customer.id if table == "customers" else Identity.id
    largest = await session.scalar(select(func.coalesce(func.max(column), 0)))
    return list(range(int(largest or 0) + 1, int(largest or 0) + 1 + count))


UPDATED = ("name", "company", "tier", "tags", "attributes", "locale", "timezone")
CUSTOMERS = cast(Table, Customer.__table__)
IDENTITIES = cast(Table, Identity.__table__)
MEMBERS = cast(Table, SegmentMember.__table__)


def _apply(customer: dict[str, Any], row: ImportRow) -> None:
    """The row's values over the customer's (a cell left empty changes nothing)."""
    customer.update(row.values)
    if row.tags:
        customer["tags"] = list(dict.fromkeys([*(customer["tags"] or []), *row.tags]))
    if row.attributes:
        customer["attributes"] = {**(customer["attributes"] or {}), **row.attributes}


async def _update_known(
    session: AsyncSession, rows: list[ImportRow], customer_of_row: dict[int, int | None]
) -> int:
    """Update the known customers the rows name: read in chunks, one executemany UPDATE."""
    known = sorted({c for c in customer_of_row.values() if c is not None})
    current: dict[int, dict[str, Any]] = {}
    columns = [CUSTOMERS.c[name] for name in UPDATED]
    for chunk in _chunks(known):
        found = await session.execute(
            select(CUSTOMERS.c.id, *columns).where(CUSTOMERS.c.id.in_(chunk))
        )
        for found_row in found:
            current[found_row[0]] = dict(zip(UPDATED, found_row[1:], strict=True))
    changed: set[int] = set()
    for row in rows:
        owner = customer_of_row[row.row]
        if owner is not None and (row.values or row.tags or row.attributes):
            _apply(current[owner], row)
            changed.add(owner)
    statement = (
        update(CUSTOMERS)
        .where(CUSTOMERS.c.id == bindparam("customer_id"))
        .values({name: bindparam(name) for name in (*UPDATED, "name_key")})
    )
    ordered = sorted(changed)
    for chunk in _chunks(ordered):
        params = [
            {"customer_id": c, **current[c], "name_key": name_key(current[c]["name"] or "")}
            for c in chunk
        ]
        await session.execute(statement, params)
    retagged = {row_owner for row in rows if row.tags and (row_owner := customer_of_row[row.row])}
    await set_tag_rows(session, {c: list(current[c]["tags"] or []) for c in sorted(retagged)})
    return len(known)


async def import_customers(
    session: AsyncSession,
    segment_id: int,
    data: bytes,
    now: datetime,
    *,
    tiers: Iterable[str] = DEFAULT_TIERS,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    agent_id: int | None = None,
) -> ImportResult:
    """Import ``data`` (a CSV file) into the segment, in the caller's transaction: the caller
    commits on success; on any exception nothing must be committed."""
    if len(data) > max_bytes:
        raise texts.import_too_large(max_bytes)
    segment = await get_segment(session, segment_id)
    rows = read_rows(data, tiers, max_rows=max_rows)
    identity_ids, owners = await _owners(session, rows)
    problems: list[RowProblem] = []
    customer_of_row: dict[int, int | None] = {}
    for row in rows:
        found = {owners[a] for a in row.addresses if a in owners}
        if len(found) > 1:
            problems.append(RowProblem(row.row, row.addresses[0][0], texts.IDENTITIES_OF_TWO))
        customer_of_row[row.row] = next(iter(found)) if found else None
    if problems:
        raise ImportRejected(problems[:MAX_REPORTED], len(problems))

    updated = await _update_known(session, rows, customer_of_row)
    new_rows = [row for row in rows if customer_of_row[row.row] is None]

    created_ids = await _allocate_ids(session, "customers", len(new_rows))
    for chunk_start in range(0, len(new_rows), CHUNK):
        batch = new_rows[chunk_start : chunk_start + CHUNK]
        values = [
            {
                "id": created_ids[chunk_start + offset],
                "name": row.values.get("name", ""),
                "name_key": name_key(row.values.get("name", "")),
                "company": row.values.get("company", ""),
                "tier": row.values.get("tier", "standard"),
                "tags": row.tags,
                "attributes": row.attributes,
                "locale": row.values.get("locale", "en"),
                "timezone": row.values.get("timezone", "UTC"),
                "consent": {},
                "notes": "",
                "created_at": now,
            }
            for offset, row in enumerate(batch)
        ]
        await session.execute(insert(CUSTOMERS), values)
    for row, customer_id in zip(new_rows, created_ids, strict=True):
        customer_of_row[row.row] = customer_id
    await set_tag_rows(
        session, {c: row.tags for row, c in zip(new_rows, created_ids, strict=True) if row.tags}
    )

    new_identities: list[dict[str, Any]] = [
        {
            "customer_id": customer_of_row[row.row],
            "kind": kind,
            "address": address,
            "display_name": row.values.get("name", ""),
            "bouncing": False,
            "created_at": now,
        }
        for row in rows
        for kind, address in row.addresses
        if (kind, address) not in identity_ids
    ]
    for value, identity_id in zip(
        new_identities, await _allocate_ids(session, "identities", len(new_identities)), strict=True
    ):
        value["id"] = identity_id
        identity_ids[(str(value["kind"]), str(value["address"]))] = identity_id
    for chunk in _chunks(new_identities):
        await session.execute(insert(IDENTITIES), list(chunk))

    member_ids = sorted({c for c in customer_of_row.values() if c is not None})
    present: set[int] = set()
    for chunk in _chunks(member_ids):
        present |= set(
            await session.scalars(
                select(SegmentMember.customer_id).where(
                    SegmentMember.segment_id == segment.id, SegmentMember.customer_id.in_(chunk)
                )
            )
        )
    missing = [c for c in member_ids if c not in present]
    for chunk in _chunks(missing):
        await session.execute(
            insert(MEMBERS),
            [{"segment_id": segment.id, "customer_id": c, "added_at": now} for c in chunk],
        )

    recorded = 0
    for state in (ConsentState.GRANTED, ConsentState.REVOKED):
        wanted = state == ConsentState.GRANTED
        addresses = [
            Address(identity_ids[(kind, address)], customer_of_row[row.row] or 0, kind)
            for row in rows
            if row.consent is wanted
            for kind, address in row.addresses
        ]
        recorded += await record_many(
            session, addresses, state, ConsentSource.IMPORT, now, agent_id=agent_id
        )
    segment.definition = with_static(segment)
    segment.updated_at = now
    await session.flush()
    return ImportResult(
        rows=len(rows),
        created=len(created_ids),
        updated=updated,
        added_to_segment=len(missing),
        consents_recorded=recorded,
    )

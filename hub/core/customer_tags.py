"""Customer tags: one normal form (lower case, single spaces) and one writer that keeps the
customer's JSON list and its indexed rows (``customer_tags``, which the directory searches)
equal. Anything that changes a customer's tags goes through ``set_tags``."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.errors import CUSTOMER_TAG_PROBLEM, CUSTOMER_TAGS_TOO_MANY
from hub.db.crm_models import CustomerTag
from hub.db.models import Customer

MAX_TAGS = 50
CHUNK = 500
_TAG = re.compile(r"^[\w][\w \-]{0,63}$")


class TagError(ValueError):
    """A tag that cannot be stored; the message says why."""


def normal_tag(raw: str) -> str:
    return " ".join(raw.strip().lower().split())


def parse_tags(raw: str | list[str]) -> list[str]:
    """Tags from a comma- or semicolon-separated text (or a list), normalised, unique, in order."""
    items = raw if isinstance(raw, list) else [raw]
    parts = [part for item in items for part in re.split(r"[,;]", item)]
    tags: list[str] = []
    for part in parts:
        tag = normal_tag(part)
        if not tag:
            continue
        if not _TAG.match(tag):
            raise TagError(CUSTOMER_TAG_PROBLEM.format(tag=tag[:70]))
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise TagError(CUSTOMER_TAGS_TOO_MANY.format(limit=MAX_TAGS))
    return tags


async def set_tags(session: AsyncSession, customer: Customer, tags: list[str]) -> None:
    """Make ``tags`` the customer's tags, in the row and in the index rows."""
    customer.tags = list(tags)
    await session.execute(delete(CustomerTag).where(CustomerTag.customer_id == customer.id))
    if tags:
        await session.execute(
            insert(CustomerTag), [{"customer_id": customer.id, "tag": tag} for tag in tags]
        )


async def set_tag_rows(session: AsyncSession, tags_of: Mapping[int, list[str]]) -> None:
    """The index rows for many customers whose JSON lists a bulk writer (a CSV import) already
    set: their old rows replaced by ``tags_of[customer_id]``, in chunks."""
    ids = sorted(tags_of)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        await session.execute(delete(CustomerTag).where(CustomerTag.customer_id.in_(chunk)))
        rows = [{"customer_id": c, "tag": tag} for c in chunk for tag in tags_of[c]]
        if rows:
            await session.execute(insert(CustomerTag), rows)

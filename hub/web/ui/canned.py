"""Canned responses: a shared library of reply templates, found by fuzzy search (rapidfuzz) and
filled with the conversation's customer, agent and ticket."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from rapidfuzz import fuzz, process
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from hub.core.authz import visible_conversation
from hub.core.errors import forbidden, invalid_field
from hub.core.tickets import ticket_for
from hub.db.inbox_models import CannedResponse
from hub.db.models import Customer
from hub.web.keys import hub_of
from hub.web.requests import path_id, row_id
from hub.web.ui.render import page, see_other
from hub.web.ui.viewer import viewer_of

RESULTS = 8
MIN_SCORE = 40
_VARIABLE = re.compile(r"\{\{\s*([a-z_]+)\.([a-z_]+)\s*\}\}")
_SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


def fill(body: str, values: dict[str, dict[str, str]]) -> str:
    """Replace ``{{ customer.name }}``-style variables; unknown ones stay for the agent to see."""

    def value(match: re.Match[str]) -> str:
        group = values.get(match.group(1), {})
        return group.get(match.group(2), match.group(0))

    return _VARIABLE.sub(value, body)


def search(items: list[CannedResponse], query: str) -> list[CannedResponse]:
    if not query.strip():
        return sorted(items, key=lambda item: item.title.lower())[:RESULTS]
    choices = {item.id: f"{item.shortcut} {item.title} {item.body[:300]}" for item in items}
    by_id = {item.id: item for item in items}
    found = process.extract(
        query, choices, scorer=fuzz.WRatio, limit=RESULTS, score_cutoff=MIN_SCORE
    )
    return [by_id[key] for _choice, _score, key in found]


async def search_canned(request: web.Request) -> web.Response:
    hub, viewer = hub_of(request), viewer_of(request)
    conversation_raw = request.query.get("conversation", "")
    async with hub.db.reader() as session:
        values: dict[str, dict[str, str]] = {"agent": {"name": viewer.name}}
        conversation_id = row_id(conversation_raw)
        if conversation_id is not None:
            conversation = await visible_conversation(session, viewer.principal, conversation_id)
            customer = await session.get(Customer, conversation.customer_id)
            ticket = await ticket_for(session, conversation.id)
            if customer is not None:
                attributes = {k: str(v) for k, v in (customer.attributes or {}).items()}
                values["customer"] = attributes | {
                    "name": customer.name,
                    "first_name": (customer.name.split() or [""])[0],
                    "company": customer.company,
                    "tier": customer.tier,
                }
            values["ticket"] = {"number": str(ticket.number) if ticket else ""}
        items = list((await session.scalars(select(CannedResponse))).all())
    found = search(items, request.query.get("q", "")[:200])
    return web.json_response(
        {
            "items": [
                {
                    "id": item.id,
                    "shortcut": item.shortcut,
                    "title": item.title,
                    "text": fill(item.body, values),
                }
                for item in found
            ]
        }
    )


async def list_canned(request: web.Request) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        items = list(
            (await session.scalars(select(CannedResponse).order_by(CannedResponse.shortcut))).all()
        )
    return page(request, "ui/canned.html", items=items)


def _may_manage(request: web.Request) -> None:
    if not viewer_of(request).principal.manages_assignments:
        raise forbidden("edit canned responses")


async def create_canned(request: web.Request) -> web.StreamResponse:
    _may_manage(request)
    hub, viewer = hub_of(request), viewer_of(request)
    posted = await request.post()
    fields: dict[str, Any] = {
        k: str(posted.get(k, "")).strip() for k in ("shortcut", "title", "body")
    }
    if not _SHORTCUT.match(fields["shortcut"].lower()):
        raise invalid_field("shortcut", "use 1-64 letters, digits, - or _")
    if not fields["title"] or len(fields["title"]) > 200:
        raise invalid_field("title", "is required (200 characters at most)")
    if not fields["body"] or len(fields["body"]) > 20_000:
        raise invalid_field("body", "is required (20000 characters at most)")
    async with hub.db.writer() as session:
        session.add(
            CannedResponse(
                shortcut=fields["shortcut"].lower(),
                title=fields["title"],
                body=fields["body"].replace("\r\n", "\n"),
                created_by=viewer.agent_id,
                created_at=hub.clock.now(),
            )
        )
        try:
            await session.commit()
        except IntegrityError:
            raise invalid_field("shortcut", "is already used by another response") from None
    see_other("/ui/canned", "canned")


async def delete_canned(request: web.Request) -> web.StreamResponse:
    _may_manage(request)
    hub = hub_of(request)
    canned_id = path_id(request, "canned response")
    async with hub.db.writer() as session:
        await session.execute(delete(CannedResponse).where(CannedResponse.id == canned_id))
        await session.commit()
    see_other("/ui/canned", "canned")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/canned", list_canned)
    router.add_post("/ui/canned", create_canned)
    router.add_get("/ui/canned/search", search_canned)
    router.add_post("/ui/canned/{id}/delete", delete_canned)

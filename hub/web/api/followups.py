"""Follow-up templates (admins save per channel and locale; preview renders sample data and a
template that does not render is refused with the error), the FAQ bot's knowledge base, and
the public satisfaction link."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from sqlalchemy import delete, select

from hub.core.errors import (
    CSAT_BAD_LINK,
    CSAT_THANKS,
    forbidden,
    invalid_field,
    not_found,
    template_error,
)
from hub.db.models import Conversation, ConversationStatus, Role
from hub.db.routing_models import FaqEntry, FollowupTemplate
from hub.outbound.templates import PARTS, Source, TemplateFailure
from hub.routing import csat
from hub.web.auth import authenticate
from hub.web.keys import Hub, hub_of
from hub.web.requests import json_object, path_id

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
LOCALE = re.compile(r"^([a-z]{2,3})?$")
MAX_SOURCE = 64 * 1024


def _template_name(request: web.Request) -> str:
    name = request.match_info["name"]
    if not NAME.match(name):
        raise not_found("template", name)
    return name


def _source(hub: Hub, payload: dict[str, Any]) -> tuple[Source, dict[str, str]]:
    channel = payload.get("channel", "")
    if not isinstance(channel, str) or (channel and channel not in hub.settings.channels):
        raise invalid_field("channel", "must be empty or the name of a configured channel")
    locale = payload.get("locale", "")
    if not isinstance(locale, str) or not LOCALE.match(locale.lower()):
        raise invalid_field("locale", "must be empty or a language code such as en or de")
    parts: dict[str, str] = {}
    for part in PARTS:
        value = payload.get(part)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > MAX_SOURCE:
            raise invalid_field(part, f"must be a string of at most {MAX_SOURCE} characters")
        parts[part] = value
    if "txt" not in parts:
        raise invalid_field("txt", "is required (the plain-text body)")
    return Source("", channel, locale.lower()), parts


async def _admin(request: web.Request, session: Any) -> int:
    principal = await authenticate(request, session)
    if principal.role != Role.ADMIN:
        raise forbidden("edit follow-up templates or the FAQ")
    return principal.agent_id


async def preview_template(request: web.Request) -> web.Response:
    hub = hub_of(request)
    name = _template_name(request)
    payload = await json_object(request, {"channel", "locale", *PARTS})
    source, parts = _source(hub, payload)
    async with hub.db.reader() as session:
        await _admin(request, session)
    assert hub.routing is not None
    try:
        rendered = hub.routing.engine.templates.check(parts, name, source)
    except TemplateFailure as exc:
        raise template_error(str(exc.__cause__ or exc)) from None
    return web.json_response(
        {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}
    )


async def put_template(request: web.Request) -> web.Response:
    """Save a template variant; refused (422, with the error) if it does not render."""
    hub = hub_of(request)
    name = _template_name(request)
    payload = await json_object(request, {"channel", "locale", *PARTS})
    source, parts = _source(hub, payload)
    assert hub.routing is not None
    try:
        hub.routing.engine.templates.check(parts, name, source)
    except TemplateFailure as exc:
        raise template_error(str(exc.__cause__ or exc)) from None
    now = hub.clock.now()
    async with hub.db.writer() as session:
        agent_id = await _admin(request, session)
        await session.execute(
            delete(FollowupTemplate).where(
                FollowupTemplate.name == name,
                FollowupTemplate.channel == source.channel,
                FollowupTemplate.locale == source.locale,
            )
        )
        for part, text in parts.items():
            session.add(
                FollowupTemplate(
                    name=name,
                    channel=source.channel,
                    locale=source.locale,
                    part=part,
                    source=text,
                    saved_by=agent_id,
                    updated_at=now,
                )
            )
        await session.commit()
    return web.json_response(
        {"name": name, "channel": source.channel, "locale": source.locale, "parts": sorted(parts)}
    )


async def list_faq(request: web.Request) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        await authenticate(request, session)
        rows = (await session.scalars(select(FaqEntry).order_by(FaqEntry.id))).all()
    items = [
        {"id": e.id, "question": e.question, "answer": e.answer, "locale": e.locale} for e in rows
    ]
    return web.json_response({"items": items})


async def add_faq(request: web.Request) -> web.Response:
    hub = hub_of(request)
    payload = await json_object(request, {"question", "answer", "locale"})
    values: dict[str, str] = {}
    for field in ("question", "answer"):
        value = payload.get(field)
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_SOURCE:
            raise invalid_field(field, "is required and must be a non-empty string")
        values[field] = value.strip()
    locale = payload.get("locale", "")
    if not isinstance(locale, str) or not LOCALE.match(locale.lower()):
        raise invalid_field("locale", "must be empty or a language code such as en or de")
    async with hub.db.writer() as session:
        await _admin(request, session)
        entry = FaqEntry(**values, locale=locale.lower(), created_at=hub.clock.now())
        session.add(entry)
        await session.commit()
        body = {"id": entry.id, **values, "locale": entry.locale}
    return web.json_response(body, status=201)


async def delete_faq(request: web.Request) -> web.Response:
    hub = hub_of(request)
    async with hub.db.writer() as session:
        await _admin(request, session)
        entry = await session.get(FaqEntry, path_id(request, "FAQ entry"))
        if entry is None:
            raise not_found("FAQ entry", request.match_info["id"])
        await session.delete(entry)
        await session.commit()
    return web.Response(status=204)


async def csat_link(request: web.Request) -> web.Response:
    """The link in a satisfaction survey: signed per conversation, score in the path."""
    hub = hub_of(request)
    raw_id, raw_score = request.match_info["id"], request.match_info["score"]
    signature = request.query.get("sig", "")
    valid = raw_id.isdigit() and len(raw_id) < 18 and raw_score in {"1", "2", "3", "4", "5"}
    if not valid or not csat.verify(hub.settings.secret_key, int(raw_id), signature):
        return web.Response(status=404, text=CSAT_BAD_LINK)
    async with hub.db.writer() as session:
        conversation = await session.get(Conversation, int(raw_id))
        if conversation is None or conversation.status != ConversationStatus.RESOLVED:
            return web.Response(status=404, text=CSAT_BAD_LINK)
        await csat.record(session, conversation.id, int(raw_score), "link", hub.clock.now())
        await session.commit()
    return web.Response(text=CSAT_THANKS.format(score=raw_score))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_put("/api/v1/routing/templates/{name}", put_template)
    router.add_post("/api/v1/routing/templates/{name}/preview", preview_template)
    router.add_get("/api/v1/routing/faq", list_faq)
    router.add_post("/api/v1/routing/faq", add_faq)
    router.add_delete("/api/v1/routing/faq/{id}", delete_faq)
    router.add_get("/csat/{id}/{score}", csat_link)

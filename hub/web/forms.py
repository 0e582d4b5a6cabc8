"""Public web forms (``GET/POST /forms/{name}``): CSRF token, honeypot, per-IP rate limit,
size limits, friendly errors and a confirmation page."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from channels.base import ChannelRejected, InboundRequest
from channels.web.form import FIELDS, FormChannel, FormChannelConfig
from hub.assembly import Hub
from hub.campaigns.audience_texts import FORM_NEWS_LABEL
from hub.campaigns.consent_records import record_form_consent
from hub.core import errors
from hub.inbound.ingest import IngestUnavailable
from hub.web import csrf
from hub.web.keys import hub_of, pages_of
from hub.web.uploads import UNREADABLE

log = logging.getLogger(__name__)
HONEYPOT = "website"
NEWS = "news"  # the optional "send me news" box: email consent with the source "form"


def _form_config(hub: Hub, name: str) -> FormChannelConfig:
    config = hub.settings.channels.get(name)
    if not isinstance(config, FormChannelConfig):
        raise web.HTTPNotFound(text="There is no form here.")
    return config


def _render(
    request: web.Request,
    name: str,
    config: FormChannelConfig,
    *,
    values: dict[str, str] | None = None,
    field_errors: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    hub = hub_of(request)
    token = csrf.issue(hub.settings.secret_key)
    template = pages_of(request).pages.get_template("form.html")
    html = template.render(
        name=name,
        config=config,
        instance_name=hub.settings.instance_name,
        values=values or {},
        errors=field_errors or {},
        error=error,
        csrf_field=csrf.FIELD,
        csrf_token=token,
        honeypot=HONEYPOT,
        news_label=FORM_NEWS_LABEL,
    )
    response = web.Response(text=html, content_type="text/html", status=status)
    csrf.set_cookie(response, token, hub.settings.web.public_url.startswith("https"))
    return response


async def show_form(request: web.Request) -> web.Response:
    hub = hub_of(request)
    name = request.match_info["name"]
    return _render(request, name, _form_config(hub, name))


async def submit_form(request: web.Request) -> web.Response:
    hub = hub_of(request)
    name = request.match_info["name"]
    config = _form_config(hub, name)
    try:
        posted = await request.post()
    except web.HTTPRequestEntityTooLarge:
        return _render(request, name, config, error=errors.FORM_TOO_LARGE, status=413)
    except UNREADABLE:  # undecodable text, unknown charset, broken multipart, bad part header
        return _render(request, name, config, error=errors.FORM_UNREADABLE, status=400)
    values = {key: _text(posted.get(key)) for key in FIELDS}
    news = _text(posted.get(NEWS)) == "yes"
    token = _text(posted.get(csrf.FIELD))
    if not csrf.check(request, token, hub.settings.secret_key):
        return _render(request, name, config, values=values, error=errors.FORM_CSRF, status=403)
    if posted.get(HONEYPOT):
        log.info("form %s: honeypot filled from %s; dropped", name, request.remote)
        return _done(request, config)
    wait = await pages_of(request).form_limiter.check(hub.db, f"{name}:{request.remote}")
    if wait:
        page = _render(request, name, config, values=values, error=errors.FORM_RATE, status=429)
        page.headers["Retry-After"] = str(wait)
        return page
    channel = hub.channels[name]
    assert isinstance(channel, FormChannel)
    form: dict[str, str] = values | {"submission_id": _submission_id(token, values)}
    try:
        messages = channel.parse(InboundRequest(body=b"", form=form, remote=request.remote))
        for message in messages:
            await hub.ingestor.submit(message)
    except ChannelRejected as exc:
        again = values | ({NEWS: "yes"} if news else {})
        return _render(
            request, name, config, values=again, field_errors=dict(exc.fields), status=422
        )
    except IngestUnavailable:
        return _render(request, name, config, values=values, error=errors.FORM_STORE, status=503)
    if news and messages:
        try:
            await _record_news_consent(hub, name, messages[0].sender.address)
        except SQLAlchemyError:
            # the message is stored; sent again, it is a duplicate and the consent is retried
            log.exception("form %s: consent not recorded", name)
            again = values | {NEWS: "yes"}
            return _render(request, name, config, values=again, error=errors.FORM_STORE, status=503)
    return _done(request, config)


async def _record_news_consent(hub: Hub, form: str, email: str) -> None:
    async with hub.db.writer() as session:
        await record_form_consent(session, email, hub.clock.now(), note=f"form {form}")
        await session.commit()


def _text(value: object) -> str:
    """A posted text field; files and binary parts count as empty."""
    return value if isinstance(value, str) else ""


def _submission_id(token: str, values: dict[str, str]) -> str:
    """The same rendered form posted twice with the same content is one submission; the same
    page reused (back button) for a different message is another."""
    content = "\x1f".join(values[key] for key in FIELDS).encode()
    return f"{csrf.nonce_of(token)}-{hashlib.sha256(content).hexdigest()[:16]}"


def _done(request: web.Request, config: FormChannelConfig) -> web.Response:
    settings = hub_of(request).settings
    context: dict[str, Any] = {"config": config, "instance_name": settings.instance_name}
    html = pages_of(request).pages.get_template("form_done.html").render(**context)
    return web.Response(text=html, content_type="text/html")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/forms/{name}", show_form)
    router.add_post("/forms/{name}", submit_form)

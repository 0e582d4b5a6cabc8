"""The public opt-out pages, reached by the signed, recipient-bound token in a campaign message
(no login): ``/u/{token}`` (GET: a confirmation page with one button; POST: the RFC 8058
one-click unsubscribe, without CSRF, the token being the proof) and ``/u/{token}/preferences``
(which channels may carry news, and the preferred one; the form's CSRF value is derived from
the token). A forged, malformed or expired token gets a friendly page and changes nothing; a
GET never changes anything, so link scanners unsubscribe nobody."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.campaigns import texts
from hub.campaigns.links import preferences_url, unsubscribe_url
from hub.campaigns.optout import (
    Addressed,
    BadChoice,
    form_key,
    form_key_ok,
    preferences_of,
    recipient_of,
    save_preferences,
    unsubscribe,
)
from hub.web.keys import hub_of, pages_of

FORM_KEY = "form_key"


def _page(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    settings = hub_of(request).settings
    template = pages_of(request).pages.get_template(name)
    html = template.render(instance_name=settings.instance_name, texts=texts, **context)
    response = web.Response(text=html, content_type="text/html", status=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays in this page
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _bad_link(request: web.Request) -> web.Response:
    return _page(request, "unsubscribe_invalid.html", status=404)


async def _addressed(request: web.Request) -> Addressed | None:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        return await recipient_of(
            session, hub.settings, request.match_info["token"], hub.clock.now()
        )


def _links(request: web.Request) -> dict[str, Any]:
    """The pages' own addresses, relative (the page is on this host whatever its name)."""
    token = request.match_info["token"]
    return {
        "unsubscribe_url": unsubscribe_url("", token),
        "preferences_url": preferences_url("", token),
    }


async def confirm_page(request: web.Request) -> web.Response:
    addressed = await _addressed(request)
    if addressed is None:
        return _bad_link(request)
    done = addressed.unsubscribed  # says so rather than asking again
    return _page(
        request, "unsubscribe.html", addressed=addressed, done=done, already=done, **_links(request)
    )


async def one_click(request: web.Request) -> web.Response:
    """RFC 8058: ``List-Unsubscribe=One-Click`` posted by the mail provider, or the
    confirmation page's button (which posts the same field)."""
    hub = hub_of(request)
    token = request.match_info["token"]
    async with hub.db.writer() as session:
        now = hub.clock.now()
        addressed = await recipient_of(session, hub.settings, token, now)
        if addressed is None:
            return _bad_link(request)
        was = addressed.unsubscribed
        await unsubscribe(session, addressed.recipient, now, note=texts.ONE_CLICK_NOTE)
        await session.commit()
    return _page(
        request,
        "unsubscribe.html",
        addressed=addressed,
        done=True,
        already=was,
        **_links(request),
    )


async def preferences_page(request: web.Request) -> web.Response:
    hub = hub_of(request)
    addressed = await _addressed(request)
    if addressed is None:
        return _bad_link(request)
    async with hub.db.reader() as session:
        preferences = await preferences_of(session, addressed)
    return _preferences(request, addressed, preferences)


def _preferences(
    request: web.Request,
    addressed: Addressed,
    preferences: Any,
    *,
    status: int = 200,
    saved: bool = False,
    error: str | None = None,
) -> web.Response:
    token = request.match_info["token"]
    return _page(
        request,
        "unsubscribe_preferences.html",
        status=status,
        addressed=addressed,
        preferences=preferences,
        form_key=form_key(hub_of(request).settings.secret_key, token),
        saved=saved,
        error=error,
        **_links(request),
    )


def _ids(values: list[str]) -> set[int] | None:
    ids: set[int] = set()
    for value in values:
        if not (value.isascii() and value.isdigit() and len(value) < 12):
            return None
        ids.add(int(value))
    return ids


async def save_preferences_form(request: web.Request) -> web.Response:
    hub = hub_of(request)
    token = request.match_info["token"]
    addressed = await _addressed(request)
    if addressed is None:
        return _bad_link(request)
    try:
        posted = await request.post()
    except (ValueError, LookupError, web.HTTPRequestEntityTooLarge):
        posted = None
    key = posted.get(FORM_KEY) if posted is not None else None
    if not isinstance(key, str) or not form_key_ok(hub.settings.secret_key, token, key):
        async with hub.db.reader() as session:
            preferences = await preferences_of(session, addressed)
        return _preferences(
            request, addressed, preferences, status=403, error=texts.PREFERENCES_CSRF
        )
    assert posted is not None
    chosen = _ids([v for v in posted.getall("subscribe", []) if isinstance(v, str)])
    preferred_value = posted.get("preferred")
    preferred = preferred_value if isinstance(preferred_value, str) else ""
    async with hub.db.writer() as session:
        now = hub.clock.now()
        fresh = await recipient_of(session, hub.settings, token, now)
        if fresh is None:
            return _bad_link(request)
        try:
            if chosen is None:
                raise BadChoice("subscribe")
            await save_preferences(session, fresh, chosen, preferred or None, now)
        except BadChoice:  # raised before anything changed
            preferences = await preferences_of(session, fresh)
            return _preferences(
                request, fresh, preferences, status=400, error=texts.PREFERENCES_BAD_CHANNEL
            )
        preferences = await preferences_of(session, fresh)
        await session.commit()
    return _preferences(request, fresh, preferences, saved=True)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/u/{token}", confirm_page)
    router.add_post("/u/{token}", one_click)
    router.add_get("/u/{token}/preferences", preferences_page)
    router.add_post("/u/{token}/preferences", save_preferences_form)

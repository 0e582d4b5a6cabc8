"""The page behind a one-time password link (an invitation or a reset): public, CSRF-protected
as the sign-in form is, it sets the password once and sends the agent on to sign in."""

from __future__ import annotations

from aiohttp import web

from hub.admin import people_texts as texts
from hub.admin.password_links import PATH, use_link, valid_link
from hub.core import errors
from hub.core.errors import ApiError
from hub.web import csrf
from hub.web.keys import hub_of
from hub.web.ui.render import page


def _form(
    request: web.Request,
    *,
    email: str | None,
    purpose: str = "invite",
    errors_by_field: dict[str, str] | None = None,
    done: bool = False,
    status: int = 200,
) -> web.Response:
    hub = hub_of(request)
    token = csrf.issue(hub.settings.secret_key)
    response = page(
        request,
        "ui/password.html",
        status=status,
        email=email,
        purpose=purpose,
        errors=errors_by_field or {},
        done=done,
        link_bad=texts.LINK_BAD,
        done_text=texts.NOTICES["password_set"],
        form_csrf=token,
    )
    csrf.set_cookie(response, token, hub.settings.web.public_url.startswith("https"))
    response.headers["Referrer-Policy"] = "no-referrer"  # the path is the secret
    return response


async def show(request: web.Request) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        found = await valid_link(session, request.match_info["secret"], hub.clock.now())
    if found is None:
        return _form(request, email=None, status=410)
    link, agent = found
    return _form(request, email=agent.email, purpose=link.purpose)


async def submit(request: web.Request) -> web.Response:
    hub = hub_of(request)
    posted = await request.post()
    if not csrf.check(request, str(posted.get(csrf.FIELD, "")), hub.settings.secret_key):
        raise errors.ui_csrf()
    secret = request.match_info["secret"]
    password = str(posted.get("password", ""))[:1024]
    confirm = str(posted.get("confirm", ""))[:1024]
    async with hub.db.writer() as session:
        found = await valid_link(session, secret, hub.clock.now())
        try:
            agent = await use_link(session, secret, password, confirm, hub.clock.now())
        except ApiError as exc:
            if found is None or "link" in exc.fields:
                return _form(request, email=None, status=410)
            return _form(
                request,
                email=found[1].email,
                purpose=found[0].purpose,
                errors_by_field=exc.fields,
                status=exc.status,
            )
        email = agent.email
        await session.commit()
    return _form(request, email=email, done=True)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(PATH + "{secret}", show)
    router.add_post(PATH + "{secret}", submit)

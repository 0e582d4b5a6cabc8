"""Pages listing the mail the local capture SMTP server received (embedded demo only)."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiohttp import web

from hub.web.keys import hub_of, pages_of
from hub.web.requests import row_id


async def list_mail(request: web.Request) -> web.Response:
    hub, pages = hub_of(request), pages_of(request).pages
    mails = hub.capture.store.all() if hub.capture else []
    html = pages.get_template("devmail.html").render(
        mails=mails, instance_name=hub.settings.instance_name
    )
    return web.Response(text=html, content_type="text/html")


async def show_mail(request: web.Request) -> web.Response:
    hub, pages = hub_of(request), pages_of(request).pages
    number = request.match_info["number"]
    mail = hub.capture.store.get(row_id(number) or 0) if hub.capture else None
    if mail is None:
        raise web.HTTPNotFound(text="No such captured mail.")
    parsed = BytesParser(policy=policy.default).parsebytes(mail.raw)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(preferencelist=("plain",))
    html = pages.get_template("devmail_one.html").render(
        mail=mail,
        headers=list(parsed.items()),
        text=body.get_content() if body is not None else "",
        raw=mail.raw.decode("utf-8", errors="replace"),
        instance_name=hub.settings.instance_name,
    )
    return web.Response(text=html, content_type="text/html")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/dev/mail", list_mail)
    router.add_get("/dev/mail/{number}", show_mail)

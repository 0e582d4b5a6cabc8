"""The notices API: every signed-in staff member reads their own notices (an admin also those
for every admin) and marks some or all of them read; the unread count is the navigation's."""

from __future__ import annotations

from hub.core.notice_inbox import NoticeView, mark_read, notices_of, unread_count
from hub.web.api.edge import Call, Doc, Endpoint, endpoint
from hub.web.api.models.notices import Marked, MarkRead, Notice, NoticeList, NoticeQuery

TAG = "Notices"


def link_of(notice: NoticeView) -> str | None:
    """The page of what a notice is about."""
    if notice.conversation_id is not None:
        return f"/ui/conversations/{notice.conversation_id}"
    if notice.kind == "template_error":
        return "/ui/admin/templates"
    return None


def notice_answer(notice: NoticeView) -> Notice:
    return Notice(
        id=notice.id,
        kind=notice.kind,
        text=notice.text,
        conversation_id=notice.conversation_id,
        link=link_of(notice),
        created_at=notice.created_at,
        read_at=notice.read_at,
    )


@endpoint(
    "GET",
    "/api/v1/notices",
    Doc(
        TAG,
        "Your notices, newest first, with how many are unread",
        "listMyNotices",
        description="Yours alone (a mention, an SLA escalation to a supervisor, a template "
        "you saved that failed); an admin also sees those for every admin.",
        errors=(400, 401, 422),
    ),
)
async def list_notices(call: Call, query: NoticeQuery) -> NoticeList:
    async with call.hub.db.reader() as session:
        found = await notices_of(session, call.principal, unread_only=query.state == "unread")
        unread = await unread_count(session, call.principal)
    return NoticeList(items=[notice_answer(n) for n in found], unread=unread)


async def _mark(call: Call, ids: list[int] | None) -> Marked:
    hub = call.hub
    async with hub.db.writer() as session:
        marked = await mark_read(session, call.principal, ids, hub.clock.now())
        left = await unread_count(session, call.principal)
        await session.commit()
    return Marked(marked=marked, unread=left)


@endpoint(
    "POST",
    "/api/v1/notices/read",
    Doc(
        TAG,
        "Mark some of your notices read",
        "markNoticesRead",
        description="A notice that is not yours is a 404 naming it; nothing is marked then.",
        errors=(400, 401, 404, 422),
    ),
)
async def mark_some(call: Call, body: MarkRead) -> Marked:
    return await _mark(call, body.ids)


@endpoint(
    "POST",
    "/api/v1/notices/read-all",
    Doc(TAG, "Mark every notice of yours read", "markAllNoticesRead", errors=(401,)),
)
async def mark_all(call: Call) -> Marked:
    return await _mark(call, None)


ENDPOINTS: tuple[Endpoint, ...] = (list_notices, mark_some, mark_all)

"""The notices page: a mentioned agent sees the unread count in the navigation on every page,
reads the mention on /ui/notices with a link to the conversation, and marks it read (a form
with the CSRF token; without it nothing changes); marking all read empties the count; a
notice of somebody else's cannot be marked. The mentioned agent is in three teams: the count
is still his two mentions, and his teams still open the conversation."""

from __future__ import annotations

from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk


async def test_a_mention_is_counted_shown_linked_and_marked_read(
    desk: Desk, ui_agent: UiFactory
) -> None:
    sue = await ui_agent("sue@example.com")
    bob = await ui_agent("bob@example.com", teams=("support", "billing", "sales"))
    result = await inbound(desk, "My parcel arrived broken")
    path = f"/ui/conversations/{result.conversation_id}"
    assert (await sue.post(f"{path}/note", {"text": "@bob could you refund?"})).status == 303
    assert (await sue.post(f"{path}/note", {"text": "@bob and reply today"})).status == 303

    inbox = await bob.page("/ui/inbox")
    assert 'aria-label="Notices, 2 unread"' in inbox  # counted once, not once per team
    assert "My parcel arrived broken" in await bob.page(path)  # his teams still count
    assert "data-unread" not in await sue.page("/ui/inbox")
    page = await bob.page("/ui/notices")
    assert "2 unread" in page and "Sue mentioned you" in page
    assert f'href="{path}"' in page and "could you refund?" in page

    ids = [int(part.split('"')[0]) for part in page.split('data-notice="')[1:]]
    unguarded = await bob.http.post(f"/ui/notices/{ids[0]}/read", allow_redirects=False)
    assert unguarded.status == 403
    marked = await bob.post(f"/ui/notices/{ids[0]}/read")
    assert marked.status == 303 and "notice=notices_read" in marked.headers["Location"]
    page = await bob.page("/ui/notices")
    assert "1 unread" in page and "Marked read" not in page
    assert 'aria-label="Notices, 1 unread"' in page
    assert (await sue.post(f"/ui/notices/{ids[1]}/read")).status == 404  # Bob's, not Sue's

    assert (await bob.post("/ui/notices/read-all?state=unread")).status == 303
    unread = await bob.page("/ui/notices?state=unread")
    assert "No unread notices." in unread and "data-unread" not in unread
    assert "could you refund?" in await bob.page("/ui/notices")  # still listed, read

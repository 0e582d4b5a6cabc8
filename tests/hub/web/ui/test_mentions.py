"""An @mention reaches the named colleague even in another team: they are notified, find the
conversation in their mentions view and may open it (page, API, its attachments); colleagues
of that team who were not mentioned still may not."""

from __future__ import annotations

from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.agent_api import call
from tests.support.desk import Desk


async def test_mention_of_an_agent_in_another_team_is_delivered(
    desk: Desk, ui_agent: UiFactory
) -> None:
    sue = await ui_agent("sue@example.com")
    bob = await ui_agent("bob@example.com", teams=("billing",))
    _, bob_token = await desk.agent("bob.api@example.com", teams=("billing",))
    _, carl_token = await desk.agent("carl@example.com", teams=("billing",))
    result = await inbound(desk, "My parcel arrived broken")
    path = f"/ui/conversations/{result.conversation_id}"
    assert (await bob.get(path)).status == 404  # not his team's conversation

    response = await sue.post(f"{path}/note", {"text": "@bob could billing refund this?"})
    assert response.status == 303

    mentions = await bob.page("/ui/inbox?view=mentions")
    assert f'data-id="{result.conversation_id}"' in mentions
    page = await bob.page(path)
    assert "could billing refund this?" in page
    # the notice is Bob's: the API token of another billing agent does not see it
    status, listed = await call(desk.client, "GET", "/api/v1/routing/notices", carl_token)
    assert status == 200 and listed["items"] == []
    api = f"/api/v1/conversations/{result.conversation_id}"
    assert (await call(desk.client, "GET", api, carl_token))[0] == 404
    assert (await call(desk.client, "GET", api, bob_token))[0] == 404  # not mentioned


async def test_mentioned_agent_is_notified(desk: Desk, ui_agent: UiFactory) -> None:
    sue = await ui_agent("sue@example.com")
    bob_id, bob_token = await desk.agent("bob@example.com", teams=("billing",))
    result = await inbound(desk, "My parcel arrived broken")
    response = await sue.post(
        f"/ui/conversations/{result.conversation_id}/note", {"text": "@bob please look"}
    )
    assert response.status == 303
    status, listed = await call(desk.client, "GET", "/api/v1/routing/notices", bob_token)
    assert status == 200
    [notice] = listed["items"]
    assert notice["kind"] == "mention"
    assert notice["conversation_id"] == result.conversation_id
    assert "Sue mentioned you" in notice["text"]
    api = f"/api/v1/conversations/{result.conversation_id}"
    status, shown = await call(desk.client, "GET", api, bob_token)
    assert status == 200 and shown["id"] == result.conversation_id
    notes = await call(desk.client, "GET", f"{api}/messages", bob_token)
    assert any(m["text"] == "@bob please look" for m in notes[1]["items"])
    assert bob_id != 0

"""Staff read their notices through the API: a mentioned agent sees the mention (and nobody
else does), a notice for every admin reaches each admin, who each mark it read on their own;
marking another's notice is a 404 naming it; bad bodies are 4xx naming the problem."""

from __future__ import annotations

from hub.core.notices import notify
from hub.db.models import Role
from tests.hub.web.ui.conftest import inbound
from tests.support.agent_api import call
from tests.support.desk import Desk


async def notice(desk: Desk, agent_id: int | None, kind: str, text: str, about: int | None) -> None:
    async with desk.db.writer() as session:
        notify(session, agent_id, kind, text, desk.hub.clock.now(), about)
        await session.commit()


async def test_each_reader_sees_their_own_notices_and_marks_them_read(desk: Desk) -> None:
    bob_id, bob = await desk.agent("bob@example.com")
    _, carl = await desk.agent("carl@example.com")
    _, ada = await desk.agent("ada@example.com", role=Role.ADMIN)
    _, max_ = await desk.agent("max@example.com", role=Role.ADMIN)
    result = await inbound(desk, "My parcel arrived broken")
    await notice(desk, bob_id, "mention", "Sue mentioned you", result.conversation_id)
    await notice(desk, None, "template_error", "The acknowledgement failed: line 2", None)

    status, mine = await call(desk.client, "GET", "/api/v1/notices", bob)
    assert status == 200 and mine["unread"] == 1
    [mention] = mine["items"]
    assert mention["kind"] == "mention" and mention["read_at"] is None
    assert mention["link"] == f"/ui/conversations/{result.conversation_id}"
    assert (await call(desk.client, "GET", "/api/v1/notices", carl))[1] == {
        "items": [],
        "unread": 0,
    }
    status, admins = await call(desk.client, "GET", "/api/v1/notices", ada)
    [broadcast] = admins["items"]
    assert broadcast["link"] == "/ui/admin/templates" and admins["unread"] == 1

    refused = await call(
        desk.client, "POST", "/api/v1/notices/read", bob, {"ids": [broadcast["id"]]}
    )
    assert refused[0] == 404 and str(broadcast["id"]) in refused[1]["error"]["message"]
    status, marked = await call(
        desk.client, "POST", "/api/v1/notices/read", bob, {"ids": [mention["id"]]}
    )
    assert status == 200 and marked == {"marked": 1, "unread": 0}
    again = await call(desk.client, "POST", "/api/v1/notices/read", bob, {"ids": [mention["id"]]})
    assert again[1] == {"marked": 0, "unread": 0}
    status, read = await call(desk.client, "GET", "/api/v1/notices", bob)
    assert read["items"][0]["read_at"] is not None
    assert (await call(desk.client, "GET", "/api/v1/notices?state=unread", bob))[1]["items"] == []

    assert (await call(desk.client, "POST", "/api/v1/notices/read-all", ada, {}))[1] == {
        "marked": 1,
        "unread": 0,
    }
    status, other_admin = await call(desk.client, "GET", "/api/v1/notices", max_)
    assert other_admin["unread"] == 1  # read by Ada, not by Max


async def test_bad_requests_name_the_problem(desk: Desk) -> None:
    _, bob = await desk.agent("bob@example.com")
    for body in (
        {},
        {"ids": []},
        {"ids": ["1"]},
        {"ids": [1], "all": True},
        {"ids": [1] * 501},
        {"ids": [0]},
    ):
        status, answer = await call(desk.client, "POST", "/api/v1/notices/read", bob, body)
        assert status in (400, 422), (body, status)
        assert answer["error"]["fields"], body
    status, answer = await call(desk.client, "GET", "/api/v1/notices?state=old", bob)
    assert status in (400, 422) and "state" in answer["error"]["fields"]
    assert (await call(desk.client, "GET", "/api/v1/notices", None))[0] == 401

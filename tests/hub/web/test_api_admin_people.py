"""Admins run agents and teams over the API: invite (the link in the answer and in the mail),
edit, deactivate (tokens revoked, conversations re-routed), reactivate, reset links, tokens;
teams and their members; the audit log, paged and filtered; the first-run checklist. Bad input
is a 4xx naming the field, with nothing saved."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.db.admin_models import AdminChange
from hub.db.models import Agent, Presence, Role, Team
from tests.support.desk import Desk, auth


async def call(desk: Desk, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    response = await desk.client.request(method, path, headers=auth(token), **kwargs)
    return response.status, await response.json()


async def test_an_admin_invites_edits_and_lists_agents(desk: Desk) -> None:
    _, admin = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    status, teams = await call(desk, "GET", "/api/v1/admin/teams", admin)
    assert status == 200
    support = next(t for t in teams["items"] if t["slug"] == "support")

    status, invited = await call(
        desk,
        "POST",
        "/api/v1/admin/agents",
        admin,
        {"email": "kim@example.com", "name": "Kim", "teams": [support["id"]], "skills": ["de"]},
    )
    assert status == 201, invited
    assert invited["agent"]["state"] == "invited"
    assert invited["agent"]["teams"] == [{"id": support["id"], "name": support["name"]}]
    assert invited["agent"]["pending_link"] == "invite"
    assert invited["mailed_to"] == "kim@example.com"
    assert "/ui/password/" in invited["link"]
    assert desk.smtp is not None
    [mail] = await desk.smtp.wait_for(1)
    assert invited["link"] in mail.text()

    kim = invited["agent"]["id"]
    status, changed = await call(
        desk, "PATCH", f"/api/v1/admin/agents/{kim}", admin, {"role": "supervisor", "capacity": 3}
    )
    assert status == 200, changed
    assert (changed["role"], changed["capacity"], changed["name"]) == ("supervisor", 3, "Kim")
    status, listed = await call(desk, "GET", "/api/v1/admin/agents", admin)
    assert [a["email"] for a in listed["items"]] == ["ada@example.com", "kim@example.com"]

    status, log = await call(desk, "GET", "/api/v1/admin/audit?area=agents", admin)
    assert status == 200
    assert [e["action"] for e in log["items"]] == ["edit", "invite"]
    edit = log["items"][0]
    assert edit["actor"] == "ada@example.com"
    assert '"role": "agent"' in edit["old"] and '"role": "supervisor"' in edit["new"]
    secret = invited["link"].rsplit("/", 1)[1]
    assert all(secret not in e["new"] + e["old"] for e in log["items"])


async def test_bad_input_names_the_field_and_saves_nothing(desk: Desk) -> None:
    _, admin = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    before = await desk.count(Agent)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"email": "nope"}, 422, "email"),
        ({"email": "x@example.com", "role": "owner"}, 422, "role"),
        ({"email": "x@example.com", "teams": [987654]}, 422, "teams"),
        ({"email": "x@example.com", "capacity": -1}, 422, "capacity"),
        ({"email": "x@example.com", "capacity": "5"}, 422, "capacity"),
        ({"email": "x@example.com", "skills": ["two words"]}, 422, "skills"),
        ({"email": "x@example.com", "password": "short"}, 422, "password"),
        ({"email": "x@example.com", "surprise": 1}, 422, "surprise"),
        ({"email": "ADA@example.com"}, 409, "email"),
    ]
    for body, status, field in cases:
        got, answer = await call(desk, "POST", "/api/v1/admin/agents", admin, body)
        assert got == status, (body, answer)
        assert field in answer["error"]["fields"], (body, answer)
    assert await desk.count(Agent) == before
    bob, _ = await desk.agent("bob@example.com")
    got, answer = await call(
        desk, "PATCH", f"/api/v1/admin/agents/{bob}", admin, {"name": "Bobby", "teams": [987654]}
    )
    assert (got, answer["error"]["fields"]) == (422, {"teams": "no team with id 987654"})
    assert (await desk.agent_row(bob)).name == "Bob"
    assert (await call(desk, "GET", "/api/v1/admin/agents/987654", admin))[0] == 404
    assert (await call(desk, "GET", "/api/v1/admin/agents/abc", admin))[0] == 404
    assert (await call(desk, "GET", "/api/v1/admin/audit?area=nope", admin))[0] == 400
    assert await desk.count(AdminChange) == 0


async def test_no_change_leaves_the_hub_without_an_active_admin(desk: Desk) -> None:
    ada, admin = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    status, answer = await call(
        desk, "PATCH", f"/api/v1/admin/agents/{ada}", admin, {"role": "agent"}
    )
    assert status == 409
    assert "last active admin" in answer["error"]["fields"]["role"]
    grace, other = await desk.agent("grace@example.com", role=Role.ADMIN, teams=())
    assert (await call(desk, "POST", f"/api/v1/admin/agents/{grace}/deactivate", admin))[0] == 200
    status, answer = await call(
        desk, "PATCH", f"/api/v1/admin/agents/{ada}", admin, {"role": "agent"}
    )
    assert status == 409, answer  # grace is deactivated: ada is the last active admin again
    status, answer = await call(desk, "POST", f"/api/v1/admin/agents/{ada}/deactivate", admin)
    assert status == 409 and "yourself" in answer["error"]["message"]
    assert (await call(desk, "GET", "/api/v1/admin/agents", other))[0] == 401  # revoked


async def test_deactivation_revokes_tokens_and_reroutes_the_open_conversation(
    desk: Desk,
) -> None:
    _, admin = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    leaver, leaver_token = await desk.agent("leaver@example.com")
    from tests.hub.web.ui.conftest import inbound

    first = await inbound(desk, "Where is my parcel?")
    assert (await desk.conversation(first.conversation_id)).assignee_id == leaver
    colleague, _ = await desk.agent("colleague@example.com", presence=Presence.ONLINE)

    status, tokens = await call(desk, "GET", f"/api/v1/admin/agents/{leaver}/tokens", admin)
    assert status == 200 and len(tokens["items"]) == 1
    assert tokens["items"][0]["last_used_at"] is None
    assert (await call(desk, "GET", "/api/v1/conversations", leaver_token))[0] == 200
    status, tokens = await call(desk, "GET", f"/api/v1/admin/agents/{leaver}/tokens", admin)
    assert tokens["items"][0]["last_used_at"] is not None

    status, done = await call(desk, "POST", f"/api/v1/admin/agents/{leaver}/deactivate", admin)
    assert status == 200, done
    assert (done["rerouted"], done["queued"], done["tokens_revoked"]) == (1, 0, 1)
    assert (await desk.conversation(first.conversation_id)).assignee_id == colleague
    assert (await call(desk, "GET", "/api/v1/conversations", leaver_token))[0] == 401
    assert (await call(desk, "POST", f"/api/v1/admin/agents/{leaver}/deactivate", admin))[0] == 409
    status, shown = await call(desk, "POST", f"/api/v1/admin/agents/{leaver}/reactivate", admin)
    assert (status, shown["state"]) == (200, "active")
    assert (await call(desk, "GET", "/api/v1/conversations", leaver_token))[0] == 401


async def test_reset_links_and_token_revocation(desk: Desk) -> None:
    ada, admin = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    bob, bob_token = await desk.agent("bob@example.com")
    status, first = await call(desk, "POST", f"/api/v1/admin/agents/{bob}/password-reset", admin)
    assert status == 200 and first["mailed_to"] == "bob@example.com"
    status, second = await call(desk, "POST", f"/api/v1/admin/agents/{bob}/password-reset", admin)
    page = await desk.client.get(first["link"][first["link"].index("/ui/password/") :])
    assert page.status == 410  # the newer link replaced it
    page = await desk.client.get(second["link"][second["link"].index("/ui/password/") :])
    assert page.status == 200

    status, tokens = await call(desk, "GET", f"/api/v1/admin/agents/{bob}/tokens", admin)
    token_id = tokens["items"][0]["id"]
    status, revoked = await call(
        desk, "POST", f"/api/v1/admin/agents/{bob}/tokens/{token_id}/revoke", admin
    )
    assert status == 200 and revoked["revoked_at"] is not None
    assert (await call(desk, "GET", "/api/v1/conversations", bob_token))[0] == 401
    status, mine = await call(desk, "GET", f"/api/v1/admin/agents/{ada}/tokens", admin)
    own = mine["items"][0]["id"]
    status, answer = await call(
        desk, "POST", f"/api/v1/admin/agents/{ada}/tokens/{own}/revoke", admin
    )
    assert status == 409 and "token" in answer["error"]["fields"]
    status, answer = await call(
        desk, "POST", f"/api/v1/admin/agents/{ada}/tokens/{token_id}/revoke", admin
    )
    assert status == 404  # bob's token is not ada's
    status, log = await call(desk, "GET", "/api/v1/admin/audit?area=tokens", admin)
    assert [e["action"] for e in log["items"]] == ["revoke"]


async def test_teams_and_members(desk: Desk) -> None:
    _, admin = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    bob, _ = await desk.agent("bob@example.com", teams=())
    status, team = await call(desk, "POST", "/api/v1/admin/teams", admin, {"name": "Key Accounts"})
    assert status == 201 and team["slug"] == "key-accounts"
    assert (await call(desk, "POST", "/api/v1/admin/teams", admin, {"name": "key accounts"}))[
        0
    ] == 409
    assert (await call(desk, "POST", "/api/v1/admin/teams", admin, {"name": "  "}))[0] == 422
    status, renamed = await call(
        desk, "PATCH", f"/api/v1/admin/teams/{team['id']}", admin, {"name": "Enterprise"}
    )
    assert (renamed["name"], renamed["slug"]) == ("Enterprise", "key-accounts")
    path = f"/api/v1/admin/teams/{team['id']}/members"
    status, added = await call(desk, "POST", path, admin, {"agent_id": bob})
    assert status == 200 and [m["email"] for m in added["members"]] == ["bob@example.com"]
    assert (await call(desk, "POST", path, admin, {"agent_id": bob}))[0] == 409
    status, answer = await call(desk, "POST", path, admin, {"agent_id": 987654})
    assert status == 422 and "agent_id" in answer["error"]["fields"]
    assert (
        await call(desk, "POST", "/api/v1/admin/teams/987654/members", admin, {"agent_id": bob})
    )[0] == 404
    status, removed = await call(desk, "DELETE", f"{path}/{bob}", admin)
    assert status == 200 and removed["members"] == []
    assert (await call(desk, "DELETE", f"{path}/{bob}", admin))[0] == 404
    async with desk.db.reader() as session:
        names = set(await session.scalars(select(Team.name)))
    assert "Enterprise" in names
    status, log = await call(desk, "GET", "/api/v1/admin/audit?area=teams&limit=2", admin)
    assert [e["action"] for e in log["items"]] == ["remove_member", "add_member"]
    status, older = await call(
        desk, "GET", f"/api/v1/admin/audit?area=teams&limit=2&before={log['next_before']}", admin
    )
    assert [e["action"] for e in older["items"]] == ["rename", "create"]
    assert older["next_before"] is None


async def test_agents_and_supervisors_are_refused(desk: Desk) -> None:
    _, boss = await desk.agent("boss@example.com", role=Role.SUPERVISOR)
    for method, path in (
        ("GET", "/api/v1/admin/agents"),
        ("GET", "/api/v1/admin/teams"),
        ("GET", "/api/v1/admin/audit"),
        ("GET", "/api/v1/admin/checklist"),
    ):
        status, answer = await call(desk, method, path, boss)
        assert status == 403 and answer["error"]["code"] == "forbidden"


async def test_the_checklist_ticks_items_off_as_they_are_done(desk: Desk) -> None:
    _, admin = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    _, first = await call(desk, "GET", "/api/v1/admin/checklist", admin)
    done = {i["key"]: i["done"] for i in first["items"]}
    assert done == {"channel": False, "agents": False, "hours": True}  # the example has calendars
    await desk.agent("bob@example.com")
    from tests.hub.web.ui.conftest import inbound

    await inbound(desk, "Hello")
    _, now = await call(desk, "GET", "/api/v1/admin/checklist", admin)
    assert all(i["done"] for i in now["items"])
    assert {i["href"] for i in now["items"]} == {
        "/ui/admin/channels",
        "/ui/admin/agents",
        "/ui/admin/sla",
    }

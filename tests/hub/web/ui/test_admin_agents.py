"""The admin console's agent pages: an admin invites an agent (the one-time link is mailed to
them and shown to the admin), the agent chooses a password through it and signs in; edits,
resets, deactivation (signed out, tokens revoked, conversations re-routed, history kept) and
reactivation; a refused change is shown beside its field with nothing saved."""

from __future__ import annotations

import re
from collections.abc import Callable

import aiohttp

from hub.db.admin_models import AdminChange
from hub.db.models import Agent, Message, Presence, Role
from tests.hub.web.ui.conftest import PASSWORD, UiFactory, inbound, sign_in
from tests.support.desk import Desk, auth

LINK = re.compile(r'value="(http://[^"]+/ui/password/[^"]+)"')
NEW_PASSWORD = "a-brand-new-password"


def _path(link: str) -> str:
    return link[link.index("/ui/password/") :]


async def _team_id(desk: Desk, slug: str = "support") -> int:
    from hub.core.staff import team_id_for

    async with desk.db.reader() as session:
        found = await team_id_for(session, slug)
    assert found is not None
    return found


async def test_an_invited_agent_sets_a_password_from_the_mailed_link_and_signs_in(
    desk: Desk, ui_agent: UiFactory, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    ada = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
    team = await _team_id(desk)
    invited = await ada.post(
        "/ui/admin/agents",
        [
            ("email", "New.Hire@Example.com"),
            ("name", "New Hire"),
            ("role", "supervisor"),
            ("team", str(team)),
            ("capacity", "4"),
            ("skills", "billing, de"),
        ],
    )
    assert invited.status == 201
    page = await invited.text()
    assert "Invitation created" in page and "Mailed to new.hire@example.com" in page
    shown = LINK.search(page)
    assert shown is not None
    link = shown.group(1)

    [mail] = await desk.smtp.wait_for(1) if desk.smtp else []
    assert mail.rcpt_tos == ["new.hire@example.com"]
    assert link in mail.text() and "as supervisor" in mail.text()

    listed = await ada.page("/ui/admin/agents")
    assert "New Hire" in listed and "invited" in listed

    http = browser_session()
    assert (await sign_in(http, "new.hire@example.com", NEW_PASSWORD)).status == 401
    form = await http.get(_path(link))
    assert form.status == 200
    body = await form.text()
    assert "Welcome! Choose your password" in body and "new.hire@example.com" in body
    token = re.search(r'name="csrf_token" value="([^"]+)"', body)
    assert token is not None
    mismatch = await http.post(
        _path(link),
        data={"csrf_token": token.group(1), "password": NEW_PASSWORD, "confirm": "other"},
    )
    assert mismatch.status == 422
    body = await mismatch.text()
    assert "the two passwords are not the same" in body
    token = re.search(r'name="csrf_token" value="([^"]+)"', body)
    assert token is not None
    done = await http.post(
        _path(link),
        data={"csrf_token": token.group(1), "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert done.status == 200 and "Password set" in await done.text()
    assert (await sign_in(http, "new.hire@example.com", NEW_PASSWORD)).status == 303
    assert (await http.get("/ui/inbox")).status == 200

    again = await browser_session().get(_path(link))
    assert again.status == 410 and "not valid any more" in await again.text()

    agent_page = await ada.page("/ui/admin/agents")
    assert "New Hire" in agent_page and ">active<" in agent_page
    async with desk.db.reader() as session:
        from sqlalchemy import select

        changes = (await session.scalars(select(AdminChange))).all()
        hire = await session.scalar(select(Agent).where(Agent.email == "new.hire@example.com"))
    assert hire is not None and hire.capacity == 4 and hire.skills == ["billing", "de"]
    [change] = changes
    assert (change.area, change.action) == ("agents", "invite")
    assert change.actor_label == "ada@example.com"
    secret = link.rsplit("/", 1)[1]
    assert all(secret not in c.new_value + c.old_value + c.target for c in changes)


async def test_bad_input_is_named_beside_its_field_and_nothing_is_saved(
    desk: Desk, ui_agent: UiFactory
) -> None:
    ada = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
    before = await desk.count(Agent)
    cases = [
        ({"email": "not-an-address", "name": "X"}, 422, "is not a valid email address"),
        ({"email": "x@example.com", "capacity": "lots"}, 422, "must be a whole number from 0"),
        ({"email": "x@example.com", "team": "99999"}, 422, "no team with id 99999"),
        ({"email": "x@example.com", "role": "owner"}, 422, "must be one of agent, supervisor"),
        ({"email": "x@example.com", "skills": "a b"}, 422, "at most 50 skills"),
        ({"email": "x@example.com", "password": "short"}, 422, "at least 12 characters"),
        ({"email": "ADA@example.com", "name": "Again"}, 409, "already exists"),
    ]
    for data, status, problem in cases:
        answer = await ada.post("/ui/admin/agents", data)
        text = await answer.text()
        assert answer.status == status, (data, text)
        assert 'class="field-error"' in text and problem in text, data
    assert await desk.count(Agent) == before
    assert await desk.count(AdminChange) == 0


async def test_an_admin_edits_an_agent_and_the_audit_log_shows_old_and_new(
    desk: Desk, ui_agent: UiFactory
) -> None:
    ada = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
    bob_id, _ = await desk.agent("bob@example.com")
    saved = await ada.post(
        f"/ui/admin/agents/{bob_id}",
        {"name": "Bob Builder", "role": "marketer", "capacity": "3", "skills": "vip"},
    )
    assert saved.status == 303
    page = await ada.page(f"/ui/admin/agents/{bob_id}")
    assert "Bob Builder" in page and "Marketer" in page
    bad = await ada.post(f"/ui/admin/agents/{bob_id}", {"name": " ", "capacity": "-1"})
    assert bad.status == 422
    assert "must not be empty" in await bad.text()
    audit = await ada.page("/ui/admin/audit?area=agents")
    assert "edit · Bob Builder &lt;bob@example.com&gt;" in audit
    assert "&#34;role&#34;: &#34;agent&#34;" in audit
    assert "&#34;role&#34;: &#34;marketer&#34;" in audit
    assert (await ada.get("/ui/admin/audit?area=nope")).status == 400


async def test_the_last_admin_cannot_be_demoted_or_deactivated(
    desk: Desk, ui_agent: UiFactory
) -> None:
    ada = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
    demoted = await ada.post(f"/ui/admin/agents/{ada.agent_id}", {"name": "Ada", "role": "agent"})
    assert demoted.status == 409
    assert "is the last active admin" in await demoted.text()
    own = await ada.post(f"/ui/admin/agents/{ada.agent_id}/deactivate")
    assert own.status == 409 and "you cannot deactivate yourself" in await own.text()
    assert (await desk.agent_row(ada.agent_id)).role == Role.ADMIN
    await desk.agent("grace@example.com", role=Role.ADMIN)
    assert (
        await ada.post(f"/ui/admin/agents/{ada.agent_id}", {"name": "Ada", "role": "agent"})
    ).status == 303


async def test_deactivation_signs_out_revokes_tokens_and_reroutes_open_conversations(
    desk: Desk, ui_agent: UiFactory
) -> None:
    ada = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
    leaver = await ui_agent("leaver@example.com")
    _colleague_id, _ = await desk.agent("colleague@example.com", presence=Presence.OFFLINE)
    result = await inbound(desk, "Where is my parcel?")
    conversation = await desk.conversation(result.conversation_id)
    assert conversation.assignee_id == leaver.agent_id
    reply = await leaver.post(
        f"/ui/conversations/{conversation.id}/reply", {"text": "Looking into it"}
    )
    assert reply.status == 303
    async with desk.db.writer() as session:
        from sqlalchemy import update

        await session.execute(
            update(Agent).where(Agent.email == "colleague@example.com").values(presence="online")
        )
        await session.commit()
    from hub.core.staff import create_token

    async with desk.db.writer() as session:
        row = await session.get(Agent, leaver.agent_id)
        assert row is not None
        api_token = await create_token(session, row, desk.hub.clock.now(), "laptop")
        await session.commit()
    assert (await desk.client.get("/api/v1/conversations", headers=auth(api_token))).status == 200

    confirm = await ada.page(f"/ui/admin/agents/{leaver.agent_id}/deactivate")
    assert "1 open conversation go back through routing" in confirm
    done = await ada.post(f"/ui/admin/agents/{leaver.agent_id}/deactivate")
    assert done.status == 303

    ended = await leaver.get("/ui/inbox", allow_redirects=False)
    assert ended.status == 303 and ended.headers["Location"].startswith("/ui/login")
    assert (await sign_in(leaver.http, "leaver@example.com", PASSWORD)).status == 401
    assert (await desk.client.get("/api/v1/conversations", headers=auth(api_token))).status == 401
    moved = await desk.conversation(conversation.id)
    assert moved.assignee_id == _colleague_id
    assert await desk.count(Message, Message.author_agent_id == leaver.agent_id) == 1
    page = await ada.page(f"/ui/admin/agents/{leaver.agent_id}")
    assert "deactivated" in page and "revoked" in page and "laptop" in page

    back = await ada.post(f"/ui/admin/agents/{leaver.agent_id}/reactivate")
    assert back.status == 303
    assert (await sign_in(leaver.http, "leaver@example.com", PASSWORD)).status == 303


async def test_a_reset_link_replaces_the_password_and_tokens_are_revocable(
    desk: Desk, ui_agent: UiFactory, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    ada = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
    bob = await ui_agent("bob@example.com")
    reset = await ada.post(f"/ui/admin/agents/{bob.agent_id}/reset")
    assert reset.status == 200
    shown = LINK.search(await reset.text())
    assert shown is not None
    http = browser_session()
    body = await (await http.get(_path(shown.group(1)))).text()
    assert "Choose a new password" in body
    token = re.search(r'name="csrf_token" value="([^"]+)"', body)
    assert token is not None
    short = await http.post(
        _path(shown.group(1)),
        data={"csrf_token": token.group(1), "password": "short", "confirm": "short"},
    )
    body = await short.text()
    assert short.status == 422 and "at least 12 characters" in body
    token = re.search(r'name="csrf_token" value="([^"]+)"', body)
    assert token is not None
    set_ = await http.post(
        _path(shown.group(1)),
        data={"csrf_token": token.group(1), "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert set_.status == 200
    ended = await bob.get("/ui/inbox", allow_redirects=False)
    assert ended.status == 303  # a new password ends the other sessions
    assert (await sign_in(http, "bob@example.com", NEW_PASSWORD)).status == 303

    page = await ada.page(f"/ui/admin/agents/{bob.agent_id}")
    token_id = int(re.findall(r'data-token="(\d+)"', page)[0])
    revoked = await ada.post(f"/ui/admin/agents/{bob.agent_id}/tokens/{token_id}/revoke")
    assert revoked.status == 303
    again = await ada.post(f"/ui/admin/agents/{bob.agent_id}/tokens/{token_id}/revoke")
    assert again.status == 409
    assert (await ada.post(f"/ui/admin/agents/{bob.agent_id}/tokens/999999/revoke")).status == 404
    audit = await ada.page("/ui/admin/audit?area=tokens")
    assert f"revoke · token {token_id}" in audit


async def test_only_admins_see_the_console(ui_agent: UiFactory) -> None:
    boss = await ui_agent("boss@example.com", role=Role.SUPERVISOR)
    for path in ("/ui/admin", "/ui/admin/agents", "/ui/admin/teams", "/ui/admin/audit"):
        assert (await boss.get(path)).status == 403, path
    attempt = await boss.post(
        "/ui/admin/agents", {"email": "x@example.com", "name": "X", "role": "admin"}
    )
    assert attempt.status == 403
    inbox = await boss.page("/ui/inbox")
    assert "/ui/admin" not in inbox

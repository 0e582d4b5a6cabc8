"""An agent's own account page: the browsers they are signed in on (device, address, when,
"this session"), signing one out or all of them, and changing their password under the
policy. Admins do the same for any agent through the API (audited)."""

from __future__ import annotations

from sqlalchemy import select

from hub.db.admin_models import AdminChange
from hub.db.models import Role
from tests.conftest import auth
from tests.hub.web.ui.conftest import PASSWORD, OpenBrowser, Ui, sign_in
from tests.support.desk import Desk

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


async def signed_in(
    desk: Desk, open_browser: OpenBrowser, email: str, user_agent: str, password: str = PASSWORD
) -> Ui:
    http = open_browser(desk, user_agent)
    response = await sign_in(http, email, password)
    assert response.status == 303, await response.text()
    ui = Ui(http)
    await ui.get("/ui/account")
    return ui


async def ann_on_laptop_and_phone(desk: Desk, open_browser: OpenBrowser) -> tuple[Ui, Ui]:
    """Ann, signed in on her laptop (Firefox on Windows) and her phone (Safari on iPhone)."""
    laptop = await signed_in(desk, open_browser, "ann@example.com", FIREFOX)
    return laptop, await signed_in(desk, open_browser, "ann@example.com", IPHONE)


async def is_signed_in(ui: Ui) -> bool:
    return (await ui.http.get("/ui/account", allow_redirects=False)).status == 200


async def test_an_agent_sees_where_they_are_signed_in_and_signs_one_out(
    desk: Desk, open_browser: OpenBrowser
) -> None:
    await desk.agent("ann@example.com", password=PASSWORD)
    laptop, phone = await ann_on_laptop_and_phone(desk, open_browser)
    page = await laptop.page("/ui/account")
    assert "Firefox on Windows" in page and "Safari on iPhone" in page
    assert "127.0.0.1" in page
    rows = page.split('<tr data-session="')[1:]
    assert len(rows) == 2
    mine = [row for row in rows if "this session" in row]
    assert len(mine) == 1 and "Firefox on Windows" in mine[0]
    phone_id = next(row.split('"')[0] for row in rows if "iPhone" in row)

    ended = await laptop.post(f"/ui/account/sessions/{phone_id}/end")
    assert ended.status == 303 and "notice=session_ended" in ended.headers["Location"]
    assert not await is_signed_in(phone)
    assert await is_signed_in(laptop)
    assert "Safari on iPhone" not in await laptop.page("/ui/account")


async def test_sign_out_everywhere_ends_every_session(
    desk: Desk, open_browser: OpenBrowser
) -> None:
    await desk.agent("ann@example.com", password=PASSWORD)
    laptop, phone = await ann_on_laptop_and_phone(desk, open_browser)
    out = await laptop.post("/ui/account/sessions/all/end")
    assert out.status == 303 and out.headers["Location"] == "/ui/login"
    assert not await is_signed_in(laptop) and not await is_signed_in(phone)


async def test_an_agent_cannot_end_a_colleagues_session(
    desk: Desk, open_browser: OpenBrowser
) -> None:
    ann_id, ann_token = await desk.agent("ann@example.com", password=PASSWORD)
    await desk.agent("bob@example.com", password=PASSWORD)
    ann = await signed_in(desk, open_browser, "ann@example.com", FIREFOX)
    bob = await signed_in(desk, open_browser, "bob@example.com", IPHONE)
    listed = await desk.client.get(f"/api/v1/agents/{ann_id}/sessions", headers=auth(ann_token))
    ann_session = (await listed.json())["sessions"][0]["id"]
    assert (await bob.post(f"/ui/account/sessions/{ann_session}/end")).status == 303
    assert await is_signed_in(ann) and await is_signed_in(bob)


async def test_changing_the_password_keeps_this_session_and_ends_the_others(
    desk: Desk, open_browser: OpenBrowser
) -> None:
    await desk.agent("ann@example.com", password=PASSWORD)
    laptop, phone = await ann_on_laptop_and_phone(desk, open_browser)
    page = await laptop.page("/ui/account")
    assert "at least 12 characters, not your email or name, and not a common password" in page

    def change(current: str, new: str, confirm: str | None = None) -> dict[str, str]:
        return {"current": current, "password": new, "confirm": new if confirm is None else confirm}

    wrong = await laptop.post(
        "/ui/account/password", change("not-my-password", "fresh-river-stone")
    )
    assert wrong.status == 422 and "current password is not right" in await wrong.text()
    for weak, rule in (
        ("short-one", "at least 12 characters"),
        ("ann@example.com", "not be your email address or name"),
        ("P@ssw0rd2024!", "too common"),
    ):
        refused = await laptop.post("/ui/account/password", change(PASSWORD, weak))
        assert refused.status == 422 and rule in await refused.text(), weak
    mismatch = await laptop.post("/ui/account/password", change(PASSWORD, "fresh-river-x", "y"))
    assert mismatch.status == 422 and "not the same" in await mismatch.text()

    done = await laptop.post("/ui/account/password", change(PASSWORD, "fresh river stone"))
    assert done.status == 303 and "notice=own_password" in done.headers["Location"]
    assert await is_signed_in(laptop) and not await is_signed_in(phone)
    assert (await sign_in(open_browser(desk, IPHONE), "ann@example.com", PASSWORD)).status == 401
    await signed_in(desk, open_browser, "ann@example.com", IPHONE, "fresh river stone")


async def test_an_admin_lists_and_ends_an_agents_sessions_over_the_api(
    desk: Desk, open_browser: OpenBrowser
) -> None:
    ann_id, ann_token = await desk.agent("ann@example.com", password=PASSWORD)
    _, bob_token = await desk.agent("bob@example.com", password=PASSWORD)
    _, ada_token = await desk.agent("ada@example.com", role=Role.ADMIN)
    laptop, phone = await ann_on_laptop_and_phone(desk, open_browser)
    path = f"/api/v1/agents/{ann_id}/sessions"

    listed = await desk.client.get(path, headers=auth(ada_token))
    assert listed.status == 200
    body = await listed.json()
    assert sorted(s["device"] for s in body["sessions"]) == [
        "Firefox on Windows",
        "Safari on iPhone",
    ]
    assert {s["client_address"] for s in body["sessions"]} == {"127.0.0.1"}
    assert (await desk.client.get(path, headers=auth(ann_token))).status == 200  # her own
    assert (await desk.client.get(path, headers=auth(bob_token))).status == 403
    assert (await desk.client.delete(path, headers=auth(bob_token))).status == 403
    missing = await desk.client.get("/api/v1/agents/999999/sessions", headers=auth(ada_token))
    assert missing.status == 404

    phone_id = next(s["id"] for s in body["sessions"] if s["device"] == "Safari on iPhone")
    one = await desk.client.delete(f"{path}/{phone_id}", headers=auth(ada_token))
    assert one.status == 204
    assert not await is_signed_in(phone) and await is_signed_in(laptop)
    again = await desk.client.delete(f"{path}/{phone_id}", headers=auth(ada_token))
    assert again.status == 404

    everywhere = await desk.client.delete(path, headers=auth(ada_token))
    assert everywhere.status == 200
    assert await everywhere.json() == {"agent_id": ann_id, "ended": 1}
    assert not await is_signed_in(laptop)
    async with desk.hub.db.reader() as session:
        audit = (await session.scalars(select(AdminChange).order_by(AdminChange.id))).all()
    assert [(row.actor_label, row.action, row.target) for row in audit] == [
        ("ada@example.com", "sign_out_session", "ann@example.com"),
        ("ada@example.com", "sign_out_everywhere", "ann@example.com"),
    ]

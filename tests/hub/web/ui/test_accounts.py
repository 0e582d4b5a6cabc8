"""Accounts: admins create agents and reset passwords in the web app and with
``relaydesk agents passwd``; a reset ends the agent's sessions; presence is theirs to set and
going offline keeps their conversations."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp

from hub.core.staff import verify_password
from hub.db.models import Role
from tests.conftest import CONFIG
from tests.hub.web.ui.conftest import PASSWORD, UiFactory, sign_in
from tests.support.desk import Desk

SCRIPT = Path(sys.executable).with_name("relaydesk")


async def test_admin_creates_an_agent_and_resets_a_password(
    desk: Desk, ui_agent: UiFactory, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    ada = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
    page = await ada.page("/ui/admin/agents")
    team = page.split('name="team" value="')[1].split('"')[0]
    created = await ada.post(
        "/ui/admin/agents",
        [
            ("email", "new@example.com"),
            ("name", "New Hire"),
            ("role", "agent"),
            ("team", team),
            ("password", "first-password-1"),
        ],
    )
    assert created.status == 303
    http = browser_session()
    assert (await sign_in(http, "new@example.com", "first-password-1")).status == 303
    assert (await http.get("/ui/inbox")).status == 200
    agents_page = await ada.page("/ui/admin/agents")
    assert "New Hire" in agents_page and "new@example.com" in agents_page
    new_id = int(agents_page.split("/ui/admin/agents/")[-1].split("/")[0])

    mismatch = await ada.post(
        f"/ui/admin/agents/{new_id}/password",
        {"password": "second-password-2", "confirm": "other"},
    )
    assert mismatch.status == 422
    short = await ada.post(
        f"/ui/admin/agents/{new_id}/password", {"password": "short", "confirm": "short"}
    )
    assert short.status == 422
    assert "at least 12 characters" in await short.text()
    reset = await ada.post(
        f"/ui/admin/agents/{new_id}/password",
        {"password": "second-password-2", "confirm": "second-password-2"},
    )
    assert reset.status == 303
    ended = await http.get("/ui/inbox", allow_redirects=False)
    assert ended.status == 303 and ended.headers["Location"].startswith("/ui/login")
    assert (await sign_in(http, "new@example.com", "first-password-1")).status == 401
    assert (await sign_in(http, "new@example.com", "second-password-2")).status == 303
    duplicate = await ada.post(
        "/ui/admin/agents", {"email": "new@example.com", "name": "Again", "role": "agent"}
    )
    assert duplicate.status == 422
    assert "already exists" in await duplicate.text()


async def test_only_admins_manage_agents(ui_agent: UiFactory) -> None:
    boss = await ui_agent("boss@example.com", role=Role.SUPERVISOR)
    assert (await boss.get("/ui/admin/agents")).status == 403
    attempt = await boss.post(
        "/ui/admin/agents", {"email": "x@example.com", "name": "X", "role": "admin"}
    )
    assert attempt.status == 403


def test_cli_sets_a_password(tmp_path: Path, sqlite_template: Path) -> None:
    database = tmp_path / "cli.db"
    shutil.copy(sqlite_template, database)
    env = {key: value for key, value in os.environ.items() if not key.startswith("RELAYDESK_")}
    env |= {
        "RELAYDESK_CONFIG": str(CONFIG),
        "RELAYDESK_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
    }

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    added = run("agents", "add", "kim@example.com", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    changed = run(
        "agents", "passwd", "Kim@Example.com", "--password-stdin", stdin="brand-new-pass\n"
    )
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout == "password of kim@example.com changed; their web sessions were ended\n"
    with sqlite3.connect(database) as connection:
        (stored,) = connection.execute(
            "SELECT password_hash FROM agents WHERE email = 'kim@example.com'"
        ).fetchone()
    assert verify_password(stored, "brand-new-pass") and not verify_password(stored, PASSWORD)

    short = run("agents", "passwd", "kim@example.com", "--password-stdin", stdin="short\n")
    assert short.returncode == 1
    assert short.stderr == (
        "error: password must be at least 12 characters (a few words work well)\n"
    )
    common = run("agents", "passwd", "kim@example.com", "--password-stdin", stdin="Password1234!\n")
    assert common.returncode == 1
    assert "too common" in common.stderr
    unknown = run(
        "agents", "passwd", "nobody@example.com", "--password-stdin", stdin="long-enough-1\n"
    )
    assert unknown.returncode == 1
    assert unknown.stderr == "error: no agent with email nobody@example.com\n"
    no_tty = run("agents", "passwd", "kim@example.com")
    assert no_tty.returncode == 1
    assert "--password-stdin" in no_tty.stderr

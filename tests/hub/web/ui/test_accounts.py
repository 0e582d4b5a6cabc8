"""Accounts: ``relaydesk agents passwd`` sets a password (the admin console's pages are in
test_admin_agents.py)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from hub.core.staff import verify_password
from tests.conftest import CONFIG
from tests.hub.web.ui.conftest import PASSWORD

SCRIPT = Path(sys.executable).with_name("relaydesk")


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

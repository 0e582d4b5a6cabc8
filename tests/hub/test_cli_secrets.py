"""``relaydesk secrets reseal`` for real, in a subprocess: after secret_key changed (the old key
in previous_secret_keys), every stored channel secret is sealed under the new key, a line per
value as it goes; afterwards the new key alone opens them. A value under a key listed nowhere
is reported and kept, with a non-zero exit."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from hub.admin.sealed_secrets import open_secrets, seal_secrets
from hub.admin.settings_store import SECRETS_KEY
from tests.hub.test_cli import Cli, cli

__all__ = ["cli"]

OLD_KEY = "the-old-secret-key-0123456789abcdef"
NEW_KEY = "the-new-secret-key-fedcba9876543210"
LOST_KEY = "a-key-nobody-remembers-0123456789"


def _store(cli: Cli, value: object) -> None:
    path = cli.database_url.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO setting_overrides (key, value, version, updated_at) "
            "VALUES (?, ?, 1, '2026-01-01 00:00:00.000000')",
            (SECRETS_KEY, json.dumps(value)),
        )


def _stored(cli: Cli) -> object:
    path = Path(cli.database_url.removeprefix("sqlite+aiosqlite:///"))
    with sqlite3.connect(path) as db:
        [(raw,)] = db.execute(
            "SELECT value FROM setting_overrides WHERE key = ?", (SECRETS_KEY,)
        ).fetchall()
    return json.loads(raw)


def _reseal(cli: Cli, **env: str) -> str:
    done = cli.run("secrets", "reseal", **env)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout


def test_an_operator_reseals_channel_secrets_after_changing_secret_key(cli: Cli) -> None:
    cli.ok("demo")  # a migrated database
    sealed = seal_secrets(OLD_KEY, {"api": {"token": "inbound-token-1"}})
    _store(cli, {**sealed, "mail": {"smtp_password": "plain-from-before-sealing"}})

    out = _reseal(cli, RELAYDESK_SECRET_KEY=NEW_KEY, RELAYDESK_PREVIOUS_SECRET_KEYS=OLD_KEY)
    lines = out.splitlines()
    assert "  api.token: re-sealed under the current secret_key" in lines
    assert "  mail.smtp_password: re-sealed under the current secret_key" in lines
    assert lines[-2:] == [
        "done: 2 re-sealed, 0 already current, 0 unreadable",
        "previous_secret_keys can now be removed from the config",
    ]
    stored = _stored(cli)
    assert "plain-from-before-sealing" not in json.dumps(stored)
    assert open_secrets(NEW_KEY, stored) == {
        "api": {"token": "inbound-token-1"},
        "mail": {"smtp_password": "plain-from-before-sealing"},
    }

    again = _reseal(cli, RELAYDESK_SECRET_KEY=NEW_KEY)
    assert again.splitlines()[-1] == "done: 0 re-sealed, 2 already current, 0 unreadable"


def test_a_secret_under_a_forgotten_key_is_reported_and_kept(cli: Cli) -> None:
    cli.ok("demo")
    _store(cli, seal_secrets(LOST_KEY, {"api": {"token": "inbound-token-2"}}))
    done = cli.run("secrets", "reseal", RELAYDESK_SECRET_KEY=NEW_KEY)
    assert done.returncode == 1
    assert "api.token: UNREADABLE under every key" in done.stdout
    assert open_secrets(LOST_KEY, _stored(cli)) == {"api": {"token": "inbound-token-2"}}

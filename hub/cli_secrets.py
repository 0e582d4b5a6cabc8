"""``relaydesk secrets reseal``: after ``secret_key`` changed (the old one listed in
``previous_secret_keys``), seal every stored channel secret under the new key, one line per
value as it goes; then the old key can be dropped from the config. Registered by hub/cli.py;
the work is hub/admin/secret_rotation.py."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from hub.admin.sealed_secrets import Resealed
from hub.admin.secret_rotation import reseal_stored
from hub.config.settings import Settings
from hub.platform.clock import SystemClock

Run = Callable[[Settings, Callable[[Any], Awaitable[Any]]], Coroutine[Any, Any, Any]]


def cmd_reseal(args: argparse.Namespace, settings: Settings, run: Run) -> int:
    keys = 1 + len(settings.previous_secret_keys)
    print(f"re-sealing channel secrets under secret_key ({keys} key(s) tried to open them)")

    def told(name: str, outcome: str) -> None:
        print(f"  {name}: {outcome}", flush=True)

    async def work(session: Any) -> Resealed:
        done = await reseal_stored(session, settings, SystemClock().now(), told)
        await session.commit()
        return done

    done: Resealed = asyncio.run(run(settings, work))
    print(
        f"done: {len(done.resealed)} re-sealed, {len(done.current)} already current, "
        f"{len(done.unreadable)} unreadable"
    )
    if done.unreadable:
        print(
            "unreadable values were sealed under a key not in previous_secret_keys: add it, "
            "or replace them on Admin > Channels"
        )
        return 1
    if settings.previous_secret_keys:
        print("previous_secret_keys can now be removed from the config")
    return 0


def add_commands(
    commands: Any, common: argparse.ArgumentParser, handler: Callable[..., int]
) -> None:
    secrets = commands.add_parser(
        "secrets", help="sealed channel secrets (secret_key rotation)"
    ).add_subparsers(dest="secrets_command", required=True)
    resealed = secrets.add_parser(
        "reseal",
        help="seal stored channel secrets under the current secret_key",
        parents=[common],
    )
    resealed.set_defaults(handler=handler, secrets_run=cmd_reseal)

"""One hub process for the crash test, run as
``python -m tests.hub.campaigns.hub_process '<settings overrides as JSON>'``: the hub as
``relaydesk serve`` assembles it (every worker, the campaign sender among them), without the
web server, until it is killed."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from hub.assembly import assemble
from hub.config.settings import load_settings

CONFIG = Path(__file__).resolve().parents[3] / "config" / "relaydesk.toml"


async def run(overrides: dict[str, Any]) -> None:
    settings = load_settings(CONFIG, environ={}, overrides=overrides)
    async with assemble(settings):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(run(json.loads(sys.argv[1])))

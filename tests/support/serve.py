"""``relaydesk serve`` run for real in a subprocess: started, its banner read, stopped with SIGTERM.
The environment keeps the example config but a temporary SQLite database."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import CONFIG

SCRIPT = Path(sys.executable).with_name("relaydesk")
LAST_BANNER_LINE = "Stop with Ctrl+C."


def cli_env(database: Path, **extra: str) -> dict[str, str]:
    """The example config on a database of the test's own, nothing else from RELAYDESK_*."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RELAYDESK_")}
    return env | {
        "RELAYDESK_CONFIG": str(CONFIG),
        "RELAYDESK_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        **extra,
    }


@dataclass
class Served:
    banner: list[str] = field(default_factory=list)

    def url_of(self, label: str) -> str:
        """The first URL on the banner line that starts with ``label``."""
        line = next(line for line in self.banner if line.strip().startswith(label))
        return next(word for word in line.split() if word.startswith("http"))


@asynccontextmanager
async def serving(env: Mapping[str, str], *args: str, timeout: float = 60) -> AsyncIterator[Served]:
    """A running hub; fails with its stderr if it exits or prints no full banner in time."""
    process = await asyncio.create_subprocess_exec(
        str(SCRIPT),
        "serve",
        *args,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    served = Served()
    try:
        async with asyncio.timeout(timeout):
            while LAST_BANNER_LINE not in served.banner:
                line = await process.stdout.readline()
                if not line:
                    raise AssertionError((await process.stderr.read()).decode())
                served.banner.append(line.decode().rstrip("\n"))
        yield served
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(30):
                    await process.communicate()
            except TimeoutError:
                process.kill()
                await process.communicate()

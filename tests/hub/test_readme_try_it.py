"""The README's "Try it" steps, run as written against a demo hub on another port: the message
the first command sends is what the second command shows."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from pathlib import Path

from tests.conftest import ROOT
from tests.support.ports import free_port
from tests.support.serve import SCRIPT, cli_env, serving

PLACEHOLDER = "<token printed by scripts/run>"


def try_it_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^Try it.*?```sh\n(.*?)```", readme, re.S | re.M)
    assert found is not None, "README has a Try it block"
    return found.group(1)


async def test_the_readme_example_shows_the_message_it_just_sent(tmp_path: Path) -> None:
    block = try_it_block()
    assert PLACEHOLDER in block and "http://127.0.0.1:8080" in block
    env = cli_env(
        tmp_path / "readme.db",
        RELAYDESK_CAPTURE__PORT="0",
        RELAYDESK_CHANNELS__MAIL__INBOUND_SMTP="127.0.0.1:0",
    )
    port = free_port()
    # What scripts/run does: migrate, then serve the demo (which prints the token).
    migrated = subprocess.run(
        [str(SCRIPT), "migrate"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert migrated.returncode == 0, migrated.stderr
    async with serving(env, "--demo", "--port", str(port)) as hub:
        token = re.search(r"^API token .*: (rdk_\S+)$", "\n".join(hub.banner), re.M)
        assert token is not None, hub.banner
        script = block.replace("http://127.0.0.1:8080", f"http://127.0.0.1:{port}")
        script = script.replace(PLACEHOLDER, token.group(1))
        done = await asyncio.to_thread(
            subprocess.run,
            # Each answer on a line of its own; a 4xx fails the step.
            ["bash", "-e", "-c", script.replace("curl ", "echo; curl -sS --fail-with-body ")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    sent, listed = (json.loads(line) for line in done.stdout.splitlines() if line.strip())
    assert listed["items"][0]["id"] == sent["conversation_id"]
    assert [item["subject"] for item in listed["items"]] == ["Where is my refund?"]
    assert listed["items"][0]["channel"] == "api"

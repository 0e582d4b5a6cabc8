"""A newcomer runs ``relaydesk``: with no arguments it shows the help; ``serve`` prints every URL
and the demo logins once it listens; a second hub on another ``--port`` starts next to the first
(its mail servers move too), and a port that is taken is one line naming the setting."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.support.poll import eventually
from tests.support.ports import free_port
from tests.support.serve import SCRIPT, cli_env, serving

API_TOKEN = "demo-inbound-token-0123456789"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_no_arguments_prints_the_help(tmp_path: Path) -> None:
    done = run(cli_env(tmp_path / "x.db"))
    assert done.returncode == 0
    assert done.stdout == run(cli_env(tmp_path / "x.db"), "--help").stdout
    assert done.stdout.startswith("usage: relaydesk")
    for command in ("serve", "migrate", "agents", "demo", "campaigns"):
        assert command in done.stdout


async def test_a_second_hub_on_another_port_starts_next_to_the_first(tmp_path: Path) -> None:
    capture, inbound, first_port, second_port = (free_port() for _ in range(4))
    fixed = {
        "RELAYDESK_CAPTURE__PORT": str(capture),
        "RELAYDESK_CHANNELS__MAIL__SMTP_PORT": str(capture),  # the demo's mail goes to capture
        "RELAYDESK_CHANNELS__MAIL__INBOUND_SMTP": f"127.0.0.1:{inbound}",
    }
    first_env = cli_env(tmp_path / "first.db", RELAYDESK_WEB__PORT=str(first_port), **fixed)
    second_env = cli_env(tmp_path / "second.db", **fixed)
    async with serving(first_env) as first, serving(second_env, "--port", str(second_port)) as two:
        assert f"(SMTP 127.0.0.1:{capture}, capture.port)" in "\n".join(first.banner)
        moved = re.search(r"\(SMTP 127\.0\.0\.1:(\d+), capture\.port\)", "\n".join(two.banner))
        assert moved is not None and int(moved.group(1)) not in (capture, 0)
        assert f"127.0.0.1:{inbound}" not in "\n".join(two.banner)
        base = f"http://127.0.0.1:{second_port}"
        assert two.banner[0] == f"Relaydesk listening on {base}"
        assert all(base in url for url in re.findall(r"http://[^\s)]+", "\n".join(two.banner)))

        # The second hub's own mail reaches its own capture server, shown on its own page.
        async with aiohttp.ClientSession() as http:
            sent = await http.post(
                f"{base}/api/v1/inbound/api",
                headers={"Authorization": f"Bearer {API_TOKEN}"},
                json={
                    "external_id": "second-1",
                    "from": {"address": "jane@example.com", "name": "Jane"},
                    "text": "Hello from the second hub",
                },
            )
            assert sent.status in (200, 201, 202), await sent.text()

            async def acknowledged() -> bool:
                async with http.get(two.url_of("captured mail")) as page:
                    return "jane@example.com" in await page.text()

            await eventually(acknowledged, timeout=20, interval=0.2, what="the ack captured")


@pytest.mark.parametrize(
    ("env_key", "value", "setting", "flag"),
    [
        ("RELAYDESK_CAPTURE__PORT", "{port}", "capture.port", "--capture-port"),
        (
            "RELAYDESK_CHANNELS__MAIL__INBOUND_SMTP",
            "127.0.0.1:{port}",
            "channels.mail.inbound_smtp",
            "--smtp-port",
        ),
        ("RELAYDESK_WEB__PORT", "{port}", "web.port", "--port"),
    ],
)
def test_a_busy_port_is_one_line_naming_its_setting(
    tmp_path: Path, env_key: str, value: str, setting: str, flag: str
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = cli_env(
            tmp_path / "busy.db",
            RELAYDESK_CAPTURE__PORT="0",
            RELAYDESK_CHANNELS__MAIL__INBOUND_SMTP="127.0.0.1:0",
            RELAYDESK_WEB__PORT=str(free_port()),
        )
        done = run(env | {env_key: value.format(port=port)}, "serve")
    assert done.returncode == 1
    assert "Relaydesk listening" not in done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith("error: cannot start: address already in use: ")
    assert f"127.0.0.1:{port}" in line and f"setting {setting}" in line
    assert flag in line and env_key in line


async def test_serve_prints_every_url_and_the_demo_logins(tmp_path: Path) -> None:
    port = free_port()
    env = cli_env(
        tmp_path / "demo.db",
        RELAYDESK_CAPTURE__PORT="0",
        RELAYDESK_CHANNELS__MAIL__INBOUND_SMTP="127.0.0.1:0",
    )
    async with serving(env, "--demo", "--port", str(port)) as hub:
        text = "\n".join(hub.banner)
        base = f"http://127.0.0.1:{port}"
        for path in (
            "/ui/inbox",
            "/ui/login",
            "/ui/admin",
            "/widget/chat/demo",
            "/forms/contact",
            "/api/v1/openapi.json",
            "/dev/mail",
        ):
            assert f"{base}{path}" in text, path
        assert "Demo logins (password relaydesk-demo):" in text
        for role in ("agent", "supervisor", "marketer", "admin"):
            assert re.search(rf"^  {role}\s+\S+@demo\.relaydesk\.local", text, re.M), role
        token = re.search(r"^API token .*: (rdk_\S+)$", text, re.M)
        assert token is not None
        async with aiohttp.ClientSession() as http:
            for url in re.findall(r"http://[^\s)]+", text):
                async with http.get(url) as response:
                    assert response.status == 200, url
            headers = {"Authorization": f"Bearer {token.group(1)}"}
            async with http.get(f"{base}/api/v1/conversations", headers=headers) as response:
                assert response.status == 200

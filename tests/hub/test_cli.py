"""The ``relaydesk`` console script, run for real in a subprocess on a temporary SQLite database:
what it prints on stdout and stderr, its exit status, and that what it creates works."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import CONFIG, AiohttpClient, auth, make_settings
from tests.support.desk import build_app
from tests.support.poll import eventually
from tests.support.ports import free_port

SCRIPT = Path(sys.executable).with_name("relaydesk")
TOKEN = re.compile(r"^rdk_[A-Za-z0-9_-]{20,}$")


@dataclass(frozen=True)
class Cli:
    database_url: str
    env: Mapping[str, str]

    def run(
        self, *args: str, stdin: str | None = None, timeout: float = 120, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**self.env, **env},
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        return done.stdout


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    assert SCRIPT.exists() or shutil.which("relaydesk"), "the relaydesk console script"
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("RELAYDESK_")}
    env |= {
        "RELAYDESK_CONFIG": str(CONFIG),
        "RELAYDESK_DATABASE_URL": database_url,
        # No fixed ports in tests: no capture server, inbound SMTP on a free port.
        "RELAYDESK_CAPTURE__ENABLED": "false",
        "RELAYDESK_CHANNELS__MAIL__INBOUND_SMTP": "127.0.0.1:0",
    }
    yield Cli(database_url, env)


def one_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def test_migrate_creates_the_schema_and_is_repeatable(cli: Cli, tmp_path: Path) -> None:
    assert cli.ok("migrate") == "database is up to date\n"
    assert (tmp_path / "cli.db").exists()
    assert cli.ok("migrate") == "database is up to date\n"


def test_agents_add_prints_json(cli: Cli) -> None:
    out = cli.ok(
        "agents", "add", "Sam@Example.com", "--name", "Sam Super", "--role", "supervisor",
        "--team", "support", "--team", "billing", "--password-stdin", "--json",
        stdin="correct horse battery\n",
    )  # fmt: skip
    created = json.loads(out)
    assert created == {"id": created["id"], "email": "sam@example.com", "role": "supervisor"}
    assert isinstance(created["id"], int)
    human = cli.ok("agents", "add", "ann@example.com")
    assert re.fullmatch(r"agent ann@example\.com created \(id \d+, role agent\)\n", human)


def test_duplicate_agent_is_a_clear_error(cli: Cli) -> None:
    cli.ok("agents", "add", "ann@example.com")
    done = cli.run("agents", "add", "ANN@example.com")
    assert done.returncode == 1
    assert done.stdout == ""
    assert one_line(done.stderr) == "error: an agent with email ann@example.com already exists"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("agents", "add", "not-an-address"),
            "error: 'not-an-address' is not a valid email address",
        ),
        (("agents", "add", "a@example.com", "--password", "short"), "error: password must be"),
        (("tokens", "create", "--agent", "nobody@example.com"), "error: no agent with email"),
    ],
)
def test_refused_requests_say_why(cli: Cli, args: tuple[str, ...], message: str) -> None:
    done = cli.run(*args)
    assert done.returncode == 1
    assert done.stdout == ""
    assert one_line(done.stderr).startswith(message)


async def test_tokens_create_prints_only_a_working_token(
    cli: Cli, aiohttp_client: AiohttpClient
) -> None:
    cli.ok("agents", "add", "alice@example.com", "--team", "support")
    out = cli.ok("tokens", "create", "--agent", "Alice@Example.com", "--label", "laptop")
    token = out.removesuffix("\n")
    assert out == token + "\n" and TOKEN.match(token)
    assert cli.ok("tokens", "create", "--agent", "alice@example.com") != out  # a new one each time

    client = await aiohttp_client(build_app(make_settings(cli.database_url)))
    response = await client.get("/api/v1/conversations", headers=auth(token))
    assert response.status == 200
    assert (await response.json())["items"] == []
    refused = await client.get("/api/v1/conversations", headers=auth(token[:-1] + "x"))
    assert refused.status == 401


async def test_demo_prints_a_login_and_a_working_token(
    cli: Cli, aiohttp_client: AiohttpClient
) -> None:
    out = cli.ok("demo")
    assert re.fullmatch(r"Demo data created \(\d+ conversations\)\.", out.splitlines()[0])
    login = re.search(r"Demo agent login:\s+(\S+@\S+) / (\S+)", out)
    token = re.search(r"Demo agent token:\s+(\S+)", out)
    assert login is not None and token is not None
    assert TOKEN.match(token.group(1))
    again = json.loads(cli.ok("demo", "--json"))
    assert (again["email"], again["password"]) == login.groups()
    assert again["token"] != token.group(1)
    assert cli.ok("demo").splitlines()[0] == "Demo data already present."

    client = await aiohttp_client(build_app(make_settings(cli.database_url)))
    for value in (token.group(1), again["token"]):
        response = await client.get("/api/v1/conversations", headers=auth(value))
        assert response.status == 200


@pytest.mark.parametrize(
    ("args", "env", "starts"),
    [
        (("migrate",), {"RELAYDESK_WEB__PORT": "eighty"}, "config error: web.port: "),
        (("demo",), {"RELAYDESK_SECRET_KEY": "short"}, "config error: secret_key: "),
        (("migrate",), {"RELAYDESK_DATABASE_URL": "mysql://db/x"}, "config error: database.url: "),
        (("serve", "--port", "0"), {}, "config error: web.port: "),
        (("agents", "add", "a@example.com", "--config", "/nonexistent/relaydesk.toml"), {},
         "config error: file not found: /nonexistent/relaydesk.toml"),
    ],
)  # fmt: skip
def test_bad_config_is_one_line_and_exit_2(
    cli: Cli, args: tuple[str, ...], env: dict[str, str], starts: str
) -> None:
    done = cli.run(*args, **env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert one_line(done.stderr).startswith(starts)


def test_unreachable_database_is_one_line_without_the_password(cli: Cli) -> None:
    port = free_port()
    url = f"postgresql+asyncpg://relaydesk:s3cret-pw@127.0.0.1:{port}/relaydesk"
    for args in (("migrate",), ("agents", "add", "a@example.com")):
        done = cli.run(*args, RELAYDESK_DATABASE_URL=url)
        assert done.returncode == 1
        line = one_line(done.stderr)
        assert line.startswith("error: cannot use the database postgresql+asyncpg://relaydesk:***@")
        assert "s3cret-pw" not in done.stderr


async def test_serve_answers_healthz_and_stops_cleanly_on_sigterm(cli: Cli) -> None:
    port = free_port()
    process = subprocess.Popen(
        [str(SCRIPT), "serve", "--config", str(CONFIG), "--host", "127.0.0.1", "--port", str(port)],
        env=dict(cli.env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        async with aiohttp.ClientSession() as session:

            async def healthy() -> bool:
                assert process.poll() is None, process.communicate()
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        return response.status == 200 and await response.json() == {"status": "ok"}
                except aiohttp.ClientConnectionError:
                    return False

            await eventually(healthy, timeout=60, interval=0.1, what="serve answering /healthz")
            async with session.get(f"http://127.0.0.1:{port}/forms/contact") as response:
                assert response.status == 200
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert stdout.splitlines()[0] == f"Relaydesk listening on http://127.0.0.1:{port}"


def test_serve_on_a_busy_port_is_one_line_and_exit_1(cli: Cli) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = cli.run("serve", "--port", str(port), timeout=45)  # exits, does not hang
    assert done.returncode == 1
    assert "Relaydesk listening" not in done.stdout  # never claimed to be listening
    line = one_line(done.stderr)
    assert line.startswith("error: cannot start: ") and "address already in use" in line

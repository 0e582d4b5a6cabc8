"""`relaydesk ingest email FILE...` over the whole corpus: one JSON line per file, every file
stored, a second run finds them all already there."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.hub.email.conftest import corpus


def _config(tmp_path: Path) -> Path:
    config = (ROOT / "config" / "relaydesk.toml").read_text()
    config = config.replace(
        'url = "sqlite+aiosqlite:///data/relaydesk.db"',
        f'url = "sqlite+aiosqlite:///{tmp_path / "cli.db"}"',
    )
    path = tmp_path / "relaydesk.toml"
    path.write_text(config)
    return path


def _ingest(config: Path, *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", "--config", str(config), "ingest", "email", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ingest_email_files_prints_one_json_line_each(tmp_path: Path) -> None:
    config = _config(tmp_path)
    files = [str(p) for p in corpus()]
    first = _ingest(config, *files)
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    assert [line["file"] for line in lines] == files
    bounces = [line for line in lines if line["bounce"]]
    assert len(bounces) == 6
    messages = [line for line in lines if not line["bounce"]]
    assert all(isinstance(line["message_id"], int) for line in messages)
    assert all(isinstance(line["conversation_id"], int) for line in messages)
    assert all(isinstance(line["customer_id"], int) for line in messages)
    assert not any(line["duplicate"] for line in lines)

    again = _ingest(config, *files)
    assert again.returncode == 0, again.stderr
    repeated = [json.loads(line) for line in again.stdout.splitlines()]
    assert all(line["duplicate"] for line in repeated)
    assert [line["message_id"] for line in repeated] == [line["message_id"] for line in lines]


def test_unreadable_file_and_unknown_channel_are_reported(tmp_path: Path) -> None:
    config = _config(tmp_path)
    missing = _ingest(config, str(tmp_path / "missing.eml"))
    assert missing.returncode == 1
    assert "cannot read the file" in json.loads(missing.stdout)["error"]
    unknown = subprocess.run(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "--config",
            str(config),
            "ingest",
            "email",
            "--channel",
            "contact",
            str(tmp_path / "x.eml"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unknown.returncode == 1
    assert "no email channel named 'contact'" in unknown.stderr

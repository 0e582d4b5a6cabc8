"""``relaydesk backup``/``restore`` and ``relaydesk customers export``/``erase`` run for real in a
subprocess: one line on stdout when they work, one line on stderr and a non-zero exit when not."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from tests.hub.test_cli import Cli, cli, one_line

__all__ = ["cli"]


def test_backup_then_restore_into_a_new_hub_and_over_one_with_force(
    cli: Cli, tmp_path: Path
) -> None:
    cli.ok("demo")
    archive = tmp_path / "nightly.zip"
    line = one_line(cli.ok("backup", str(archive)))
    assert line.startswith(f"backup written to {archive}")
    counts = line.split("): ", 1)[1]  # "9 customers, 12 conversations, 54 messages, …"
    assert re.fullmatch(r"\d+ customers, \d+ conversations, \d+ messages, \d+ attachments", counts)

    refused = cli.run("restore", str(archive))
    assert refused.returncode == 1
    assert one_line(refused.stderr).endswith(
        "already holds data; stop its hub and pass --force to replace it"
    )

    new_url = f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'hub.db'}"
    done = cli.run("restore", str(archive), RELAYDESK_DATABASE_URL=new_url)
    assert done.returncode == 0, done.stderr
    assert counts in one_line(done.stdout)  # everything the backup held is back
    assert one_line(cli.ok("restore", str(archive), "--force")).startswith("restored the backup")

    stray = tmp_path / "notes.txt"
    stray.write_text("hello")
    for args, message in (
        (("restore", str(stray)), f"error: {stray} is not a Relaydesk backup"),
        (("restore", str(tmp_path / "missing.zip")), "error: there is no file"),
        (("backup", str(tmp_path / "no" / "b.zip")), "error: the folder"),
    ):
        failed = cli.run(*args)
        assert failed.returncode == 1 and one_line(failed.stderr).startswith(message), args
    postgres = cli.run(
        "backup",
        str(archive),
        RELAYDESK_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:1/relaydesk",
    )
    assert postgres.returncode == 1 and "pg_dump" in one_line(postgres.stderr)


def test_customers_export_and_erase(cli: Cli, tmp_path: Path) -> None:
    cli.ok("demo")
    target = tmp_path / "customer-1.zip"
    line = one_line(cli.ok("customers", "export", "1", str(target)))
    assert line.startswith(f"customer 1 exported to {target}")
    data = json.loads(zipfile.ZipFile(target).read("customer.json"))
    assert data["customer"]["id"] == 1 and data["identities"]

    unconfirmed = cli.run("customers", "erase", "1")
    assert unconfirmed.returncode == 1
    assert "run again with --yes" in one_line(unconfirmed.stderr)
    assert one_line(cli.ok("customers", "erase", "1", "--yes")).startswith("customer 1 erased: ")
    again = one_line(cli.ok("customers", "erase", "1", "--yes"))
    assert "was already erased" in again and again.endswith("nothing changed")

    for args, message in (
        (("customers", "erase", "x1", "--yes"), "error: 'x1' is not a customer id"),
        (("customers", "export", "999", str(target)), "error: no customer with id 999"),
    ):
        failed = cli.run(*args)
        assert failed.returncode == 1 and one_line(failed.stderr) == message, failed.stderr

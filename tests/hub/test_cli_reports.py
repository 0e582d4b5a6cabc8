"""``relaydesk reports rebuild``, run for real: it shows its progress and what it rebuilt, and
a bad --since is one line naming it with a non-zero exit."""

from __future__ import annotations

from tests.hub.test_cli import Cli, cli, one_line

__all__ = ["cli"]  # the fixture


def test_rebuild_reports_what_it_did(cli: Cli) -> None:
    out = cli.ok("reports", "rebuild")
    assert out.splitlines()[-1] == "rebuilt 0 conversations: 0 facts, 0 rollup rows"
    out = cli.ok("reports", "rebuild", "--since", "2026-03-01")
    assert out.splitlines()[-1].endswith("(days from 2026-03-01)")


def test_rebuild_refuses_a_bad_date(cli: Cli) -> None:
    done = cli.run("reports", "rebuild", "--since", "March")
    assert done.returncode == 1
    assert one_line(done.stderr) == "error: --since: 'March' is not a date like 2026-03-01"

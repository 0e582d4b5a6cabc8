"""A throwaway PostgreSQL cluster for the chaos tests and bench/chaos.py: ``initdb`` in a temp
dir, ``pg_ctl`` on a free port of 127.0.0.1, so a test may kill or restart PostgreSQL without
touching the shared cluster on 5432. As root the server runs as the ``postgres`` user (initdb
refuses root)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.ports import free_port

BIN = Path(os.environ.get("RELAYDESK_PG_BIN", "/usr/lib/postgresql/15/bin"))


def available() -> bool:
    """Whether the server binaries are installed (the tests skip cleanly when they are not)."""
    return all((BIN / name).exists() for name in ("initdb", "pg_ctl", "postgres"))


class Cluster:
    """One private cluster: ``start()`` creates it, ``stop()``/``start()`` again restart it,
    ``destroy()`` removes it. ``url`` is the asyncpg URL of its ``relaydesk`` database."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="relaydesk-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._created = False

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/relaydesk"

    def _run(self, *args: str) -> None:
        command = [str(BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def _create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c max_connections=60 -c shared_buffers=32MB -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        (self.root / "options").write_text(options)
        self._created = True
        self.start()
        self._run(
            "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "relaydesk"
        )

    def start(self) -> None:
        if not self._created:
            self._create()
            return
        options = (self.root / "options").read_text()
        log = str(self.root / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` (clients disconnected, clean shutdown) or ``immediate`` (as a crash)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        if self._created and (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

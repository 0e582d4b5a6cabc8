"""``relaydesk serve --workers N``: the hub as N processes on one port, sharing nothing but the
PostgreSQL database. The kernel spreads connections over them (SO_REUSEPORT); outbox, jobs and
campaign sends are claimed with ``FOR UPDATE SKIP LOCKED`` under leases; live events reach every
process through the event log (LISTEN/NOTIFY, with polling as the fallback). The first process
alone runs the listeners on fixed ports and the mailbox pollers (``operations.listeners``).

The parent migrates once, starts the workers, restarts one that dies (its claimed work is
taken over by the others when its leases run out, or by its successor), and on SIGTERM or
SIGINT stops them all."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import socket
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType

from hub.config.settings import Settings

log = logging.getLogger(__name__)
STOP_SECONDS = 20.0
RESTART_PAUSE = 1.0


class WorkersRefused(ValueError):
    """The settings cannot run as several processes (the message says why and what to do)."""


def worker_settings(settings: Settings, index: int) -> Settings:
    """Worker ``index``'s settings: listeners on the first only, a process label each, and no
    migration (the parent did it)."""
    label = settings.operations.process or "relaydesk"
    operations = settings.operations.model_copy(
        update={"listeners": index == 0 and settings.operations.listeners,
                "process": f"{label}-{index + 1}"}
    )  # fmt: skip
    database = settings.database.model_copy(update={"auto_migrate": False})
    return settings.model_copy(update={"operations": operations, "database": database})


def check(settings: Settings, workers: int) -> None:
    if workers < 2:
        return
    if not settings.database.url.startswith("postgresql"):
        raise WorkersRefused(
            "--workers needs PostgreSQL (set database.url to a postgresql:// URL): SQLite "
            "takes one writer at a time, so run a single process on it"
        )


def _run_worker(settings: Settings, index: int) -> None:
    from aiohttp import web

    from hub.app import create_app

    logging.basicConfig(level=logging.INFO, format=f"[worker {index + 1}] %(message)s")
    web.run_app(
        create_app(worker_settings(settings, index), long_running=True),
        host=settings.web.host,
        port=settings.web.port,
        reuse_port=True,
        print=None,
        access_log=None,
    )


def _wait_listening(settings: Settings, children: list[BaseProcess]) -> None:
    """Until the port accepts connections; WorkersRefused when every worker has ended."""
    wildcard = settings.web.host in ("0.0.0.0", "::", "")  # noqa: S104 (we connect, not bind)
    host = "127.0.0.1" if wildcard else settings.web.host
    while True:
        with contextlib.suppress(OSError), socket.create_connection((host, settings.web.port), 0.5):
            return
        if not any(child.is_alive() for child in children):
            raise WorkersRefused("the workers ended before the hub was listening (see above)")
        time.sleep(0.2)


def serve(settings: Settings, workers: int, ready: Callable[[], None]) -> None:
    """Run ``workers`` processes until SIGTERM or SIGINT; ``ready`` runs once all started."""
    from hub.assembly import migrate

    check(settings, workers)
    if settings.database.auto_migrate:
        migrate(settings)
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(_signal: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}

    def start(index: int) -> BaseProcess:
        process = context.Process(
            target=_run_worker, args=(settings, index), name=f"relaydesk-worker-{index + 1}"
        )
        process.start()
        return process

    children = [start(index) for index in range(workers)]
    try:
        _wait_listening(settings, children)
        ready()
        while not stopping:
            time.sleep(0.2)
            for index, child in enumerate(children):
                if not child.is_alive() and not stopping:
                    log.warning(
                        "worker %d (pid %s) ended with %s; starting it again",
                        index + 1,
                        child.pid,
                        child.exitcode,
                    )
                    time.sleep(RESTART_PAUSE)
                    children[index] = start(index)
    finally:
        for child in children:
            if child.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    child.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for child in children:
            child.join(max(0.1, deadline - time.monotonic()))
            if child.is_alive():
                child.kill()
                child.join(5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)

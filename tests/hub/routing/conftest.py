"""Routing stories happen on a Monday morning with a clock the test drives: customers write over
in-memory channels ("api", and "mail" for the acknowledgements it carries), passes of the job
runner run when the test says so (``desk.run_jobs()``), and no follow-up rule or SLA policy
applies unless a test configures one."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from channels.memory.adapter import MemoryChannel
from hub.config.settings import Settings
from hub.platform.clock import Clock, ManualClock
from tests.support.desk import Desk, MakeDesk

# A Monday, 09:00 UTC (10:00 in Berlin).
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
QUIET = {"jobs.poll_seconds": 3600, "followups.rules": [], "sla_policies": []}


@pytest.fixture
def make_desk(make_desk: MakeDesk) -> MakeDesk:
    async def make(
        clock: Clock | None = None,
        *,
        settings: Settings | None = None,
        memory: tuple[str, ...] | Mapping[str, MemoryChannel] = ("api", "mail"),
        workers: bool = True,
        **overrides: Any,
    ) -> Desk:
        """Quiet settings unless the test gives its own (``settings=``, taken as they are)."""
        if settings is None:
            overrides = {**QUIET, **overrides}
        return await make_desk(
            clock or ManualClock(MONDAY_9),
            settings=settings,
            memory=memory,
            workers=workers,
            **overrides,
        )

    return make

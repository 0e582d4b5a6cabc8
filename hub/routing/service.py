"""The routing engine's long-lived parts, built once at start-up: the engine the pipeline uses
and the job runner (follow-ups, bot forwarding, SLA checks, the assignment queue), whose worker
the supervisor runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hub.config.settings import Settings
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.jobs import JobHandler, JobRunner, Sweep
from hub.platform.supervisor import Worker
from hub.routing.engine import RoutingEngine
from hub.routing.followups import Followups
from hub.routing.monitor import Monitor


@dataclass(frozen=True, slots=True)
class Routing:
    engine: RoutingEngine
    followups: Followups
    monitor: Monitor
    jobs: JobRunner

    @property
    def workers(self) -> tuple[Worker, ...]:
        return (self.jobs.worker,)


Extension = Callable[[RoutingEngine], Mapping[str, JobHandler]]


def build_routing(
    settings: Settings,
    db: Database,
    clock: Clock,
    after_commit: Callable[[], None],
    extra_jobs: Mapping[str, JobHandler] | None = None,
    extend: Extension | None = None,
) -> Routing:
    """``extra_jobs``: job kinds of the areas above routing (the admin console's staff mail);
    ``extend`` plugs more into the engine (the registered bots) and returns its jobs."""
    engine = RoutingEngine(settings, clock)
    extra = extend(engine) if extend is not None else {}
    followups = Followups(settings, engine.templates)
    monitor = Monitor(settings)
    sweeps: list[Sweep] = [monitor.sla, monitor.queue, monitor.reassignments]
    jobs = JobRunner(
        db,
        {
            **followups.handlers(),
            **engine.bots.handlers(),
            **monitor.handlers(),
            **(extra_jobs or {}),
            **extra,
        },
        sweeps,
        settings.jobs,
        clock,
        after_commit,
    )
    return Routing(engine, followups, monitor, jobs)

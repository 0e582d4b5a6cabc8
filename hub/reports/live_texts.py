"""What the live operations view and the operations endpoints say to people."""

from __future__ import annotations

from hub.core.errors import ApiError, forbidden, invalid_query

LIVE_FORBIDDEN = "open the live operations view (it is for supervisors and admins)"
TEAM_OUT_OF_SCOPE = "see the figures of a team you do not supervise"
FIGURES = {
    "open": "Open",
    "unassigned": "Unassigned",
    "waiting_us": "Waiting for us",
    "waiting_customer": "Waiting for the customer",
    "sla_at_risk": "SLA at risk",
    "sla_breached": "SLA breached",
}
NO_TEAM = "No team"
READY_DATABASE_DOWN = "the database cannot be reached"


def live_forbidden() -> ApiError:
    return forbidden(LIVE_FORBIDDEN)


def unknown_figure() -> ApiError:
    return invalid_query("figure", "must be one of " + ", ".join(FIGURES))


def team_out_of_scope() -> ApiError:
    return forbidden(TEAM_OUT_OF_SCOPE)


METRICS_ADDRESS_FORBIDDEN = "read the metrics from this address (see operations.metrics_allow)"

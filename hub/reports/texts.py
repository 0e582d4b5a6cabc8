"""What a user reads on the report pages and in report errors."""

from __future__ import annotations

FORBIDDEN_ACTION = "read reports (supervisors and admins only)"
OTHER_TEAM = "read reports of a team you do not supervise"
NO_TEAM = "read reports: you supervise no team"
# Shown on the page as a sentence (the page adds the full stop).
FORBIDDEN_PAGE = "Reports are for supervisors and admins; ask an admin if you need them"
BAD_DATE = "must be a date like 2026-03-01"
END_BEFORE_START = "must not be before start"
TOO_LONG = "a report covers at most {days} days"
BAD_ID = "must be a whole number"
UNKNOWN_METRIC = "must be one of: {metrics}"
BAD_BUCKET = "must be a histogram bar from 0 to {last}"
BAD_CLOCK = "must be calendar or business"
VOLUME_NOTE = (
    "Volume is broken down by channel; the team, agent, tier and tag filters do not apply."
)
COMBINED_NOTE = "Several filters at once: figures are drawn from the facts table."
TIME_ONLINE_NOTE = "Time online comes from presence history (not recorded yet)."
METRIC_TITLES = {
    "first_response": "First response time",
    "reply": "Reply time",
    "resolution": "Resolution time",
}

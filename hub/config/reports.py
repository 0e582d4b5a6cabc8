"""Report settings: the account's time zone (report days and hours are counted in it), the
business-hours calendar durations are measured in when a conversation has no SLA calendar, and
whether supervisors see every team's reports or only their own teams'."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator


class ReportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    # A calendar named under [calendars]; None: the routing calendar (else round the clock).
    calendar: str | None = None
    # Supervisors read every team's reports ("all") or only their own teams' ("own_teams").
    supervisor_scope: Literal["all", "own_teams"] = "all"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone (e.g. Europe/Berlin)") from None
        return value

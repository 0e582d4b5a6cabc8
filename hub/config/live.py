"""Settings of the live operations view and of agents' presence (``[live]`` in the config).

```toml
[live]
sla_risk_minutes = 30          # "SLA at risk": the next deadline falls within this margin
supervisor_scope = "all"       # or "teams": supervisors see only the teams they belong to
away_after_minutes = 10        # an online agent with no request for this long shows as away
offline_after_minutes = 30     # no request and no open live page for this long: offline
activity_write_seconds = 30    # how often an agent's activity is written (at most)
timezone = "Europe/Berlin"     # where "today" starts for "assigned today" (default UTC)
```
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class LiveSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sla_risk_minutes: int = Field(30, ge=1, le=7 * 24 * 60)
    supervisor_scope: Literal["all", "teams"] = "all"
    away_after_minutes: float = Field(10.0, gt=0, le=24 * 60)
    offline_after_minutes: float = Field(30.0, gt=0, le=7 * 24 * 60)
    activity_write_seconds: float = Field(30.0, ge=0, le=3600)
    sweep_seconds: float = Field(30.0, gt=0, le=3600)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> LiveSettings:
        if self.offline_after_minutes < self.away_after_minutes:
            raise ValueError("offline_after_minutes: must not be shorter than away_after_minutes")
        return self

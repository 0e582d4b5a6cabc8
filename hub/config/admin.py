"""Settings of the admin console: how often a process looks for settings changed in the
database, and per-team defaults (business-hours calendar, default SLA policy) that an admin can
also set in the file as ``[admin.teams.SLUG]``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TeamSettings(_Model):
    """A team's business-hours calendar and default SLA policy (names from the settings)."""

    calendar: str | None = None
    sla_policy: str | None = None


class AdminSettings(_Model):
    # Every hub process looks this often for settings an admin changed in the database.
    poll_seconds: float = Field(2.0, gt=0)
    teams: dict[str, TeamSettings] = Field(default_factory=dict)


def environment_variable(key: str) -> str:
    """The variable that overrides a dotted key: ``web.public_url`` -> RELAYDESK_WEB__PUBLIC_URL."""
    if key == "database.url":
        return "RELAYDESK_DATABASE_URL"
    return "RELAYDESK_" + "__".join(part.upper() for part in key.split("."))

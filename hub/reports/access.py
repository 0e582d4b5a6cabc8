"""Who may read which reports: supervisors and admins; with ``[reports] supervisor_scope =
"own_teams"`` a supervisor reads only the teams they belong to (one at a time; their first
team unless they pick another)."""

from __future__ import annotations

from dataclasses import replace

from hub.config.reports import ReportSettings
from hub.core.authz import Principal
from hub.core.errors import forbidden
from hub.db.models import Role
from hub.reports import texts
from hub.reports.merge import Filters


def may_read_reports(principal: Principal) -> bool:
    return principal.role in (Role.SUPERVISOR, Role.ADMIN)


def limited(principal: Principal, settings: ReportSettings) -> bool:
    """Whether this reader sees only their own teams."""
    return principal.role == Role.SUPERVISOR and settings.supervisor_scope == "own_teams"


def scoped(principal: Principal, settings: ReportSettings, filters: Filters) -> Filters:
    """The filters as this principal may use them; raises ``ApiError`` 403 otherwise."""
    if not may_read_reports(principal):
        raise forbidden(texts.FORBIDDEN_ACTION)
    if not limited(principal, settings):
        return filters
    if not principal.team_ids:
        raise forbidden(texts.NO_TEAM)
    if filters.team_id is None:
        return replace(filters, team_id=min(principal.team_ids))
    if filters.team_id not in principal.team_ids:
        raise forbidden(texts.OTHER_TEAM)
    return filters

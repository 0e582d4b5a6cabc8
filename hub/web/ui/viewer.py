"""The signed-in agent of a request, as the session middleware found them."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from hub.core.authz import Principal
from hub.db.models import Role
from hub.web import csrf


@dataclass(frozen=True, slots=True)
class Viewer:
    principal: Principal
    name: str
    email: str
    presence: str
    session_id: int
    csrf_secret: str
    unread_notices: int = 0  # the navigation's count (hub.core.notice_inbox)

    @property
    def agent_id(self) -> int:
        return self.principal.agent_id

    @property
    def role(self) -> Role:
        return self.principal.role

    @property
    def is_admin(self) -> bool:
        return self.principal.role == Role.ADMIN

    @property
    def home(self) -> str:
        return home_of(self.principal.role)

    @property
    def markets(self) -> bool:
        """Campaigns are for marketers and admins."""
        return self.principal.role in (Role.MARKETER, Role.ADMIN)

    def csrf_token(self) -> str:
        return csrf.issue(self.csrf_secret)


def home_of(role: Role) -> str:
    """Where a role lands after sign-in: marketers on the campaigns, everybody else in the
    inbox."""
    return "/ui/campaigns" if role == Role.MARKETER else "/ui/inbox"


VIEWER = web.RequestKey("rd_viewer", Viewer)


def viewer_of(request: web.Request) -> Viewer:
    return request[VIEWER]

"""Every text the admin console's people pages and API show (agents, teams, links, the audit
log and the first-run checklist), and the errors that carry them, naming the field."""

from __future__ import annotations

from hub.core.errors import ApiError

ADMINS_ONLY = "manage agents, teams and the admin console"
ROLES = ("agent", "supervisor", "marketer", "admin")
AREAS = (
    "agents",
    "teams",
    "tokens",
    "channels",
    "routing",
    "sla",
    "hours",
    "templates",
    "settings",
    "bots",
)
MAX_CAPACITY = 1000
MAX_SKILLS = 50
MAX_SKILL = 64
MAX_NAME = 200

NAME_EMPTY = "must not be empty"
NAME_LONG = f"must be at most {MAX_NAME} characters"
EMAIL_BAD = "is not a valid email address"
EMAIL_TAKEN = "an agent with email {email} already exists"
ROLE_BAD = "must be one of " + ", ".join(ROLES)
CAPACITY_BAD = f"must be a whole number from 0 to {MAX_CAPACITY}"
SKILLS_BAD = (
    f"at most {MAX_SKILLS} skills, each at most {MAX_SKILL} characters of letters, digits, "
    "'-' or '_'"
)
TEAM_UNKNOWN = "no team with id {ident}"
AGENT_UNKNOWN = "no agent with id {ident}"
LAST_ADMIN = (
    "refused: {name} is the last active admin; make another agent an admin first, so that "
    "someone can still run the hub"
)
SELF_DEACTIVATE = "you cannot deactivate yourself; ask another admin"
ALREADY_ACTIVE = "{name} is already active"
ALREADY_INACTIVE = "{name} is already deactivated"
INACTIVE_AGENT = "{name} is deactivated; reactivate them first"
TEAM_TAKEN = "a team named {name} already exists"
MEMBER_ALREADY = "{agent} is already a member of {team}"
MEMBER_NOT = "{agent} is not a member of {team}"
TOKEN_UNKNOWN = "no API token with id {ident}"
TOKEN_REVOKED = "this token is already revoked"
TOKEN_CALLING = "this is the token the request is made with; revoke it with another one"
PASSWORD_MISMATCH = "the two passwords are not the same"
LINK_BAD = (
    "This link is not valid any more: it was used, replaced by a newer one or has expired. "
    "Ask an admin for a new one."
)
AREA_BAD = "must be one of " + ", ".join(AREAS)

INVITE_SUBJECT = "You are invited to {instance}"
INVITE_TEXT = """Hello {name},

{inviter} invited you to {instance} as {role}.
Choose your password here (the link works once, for {days} days):

{link}

Then sign in with {email}.
"""
RESET_SUBJECT = "Set a new password for {instance}"
RESET_TEXT = """Hello {name},

{actor} reset your password on {instance}.
Choose a new one here (the link works once, for {hours} hours):

{link}

If you did not expect this, tell your admin.
"""
NO_MAIL_CHANNEL = "no email channel is configured, so the link was not mailed: pass it on"

NOTICES = {
    "invited": "Invitation created.",
    "saved": "Agent saved.",
    "deactivated": "Agent deactivated: signed out, API tokens revoked, conversations re-routed.",
    "reactivated": "Agent reactivated.",
    "reset": "Password reset link created.",
    "revoked": "API token revoked.",
    "team_created": "Team created.",
    "team_saved": "Team saved.",
    "member_added": "Member added.",
    "member_removed": "Member removed.",
    "password_set": "Your password is set. Sign in with it now.",
}

CHECK_CHANNEL = "Connect a channel"
CHECK_CHANNEL_HOW = "A channel is configured and a customer message has arrived on it."
CHECK_AGENTS = "Invite your agents"
CHECK_AGENTS_HOW = "More than one active agent, so conversations have someone to go to."
CHECK_HOURS = "Set your business hours"
CHECK_HOURS_HOW = "Business hours make SLA targets and follow-ups count working time only."


def invalid(field: str, problem: str) -> ApiError:
    return ApiError(422, "invalid_field", f"{field}: {problem}", {field: problem})


def conflict(field: str, problem: str) -> ApiError:
    return ApiError(409, "conflict", f"{field}: {problem}", {field: problem})


def missing(what: str, ident: object) -> ApiError:
    return ApiError(404, "not_found", f"{what} {ident} does not exist")


def refused(field: str, problem: str) -> ApiError:
    """A change the hub will not make as asked (the last admin, oneself)."""
    return ApiError(409, "refused", problem, {field: problem})

"""Every error text a user can see, in one place, and the exception that carries it to HTTP."""

from __future__ import annotations

from collections.abc import Mapping


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message", "fields"?}}`` with ``status``."""

    def __init__(
        self, status: int, code: str, message: str, fields: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields or {})

    def body(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "missing, wrong or revoked bearer token")


def forbidden(action: str) -> ApiError:
    return ApiError(403, "forbidden", f"your role may not {action}")


def not_found(what: str, ident: object) -> ApiError:
    return ApiError(404, "not_found", f"{what} {ident} does not exist or is not yours to see")


def unknown_channel(name: str) -> ApiError:
    return ApiError(404, "unknown_channel", f"no channel named {name!r} is configured")


def wrong_channel_kind(name: str, expected: str) -> ApiError:
    return ApiError(404, "unknown_channel", f"channel {name!r} is not a {expected} channel")


def invalid_json(detail: str) -> ApiError:
    return ApiError(400, "invalid_json", f"body is not valid JSON: {detail}")


def invalid_field(field: str, problem: str) -> ApiError:
    return ApiError(422, "invalid_field", f"{field}: {problem}", {field: problem})


def invalid_query(name: str, problem: str) -> ApiError:
    return ApiError(400, "invalid_query", f"query parameter {name}: {problem}", {name: problem})


def too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"request body is larger than {limit} bytes")


def rate_limited(retry_after: int) -> ApiError:
    return ApiError(429, "rate_limited", f"too many requests; try again in {retry_after} s")


def no_message() -> ApiError:
    return ApiError(422, "no_message", "the request carried no message to store")


def unavailable() -> ApiError:
    return ApiError(503, "unavailable", "the message could not be stored; please retry")


INTERNAL = ApiError(500, "internal", "internal error; it has been logged")

FORM_CSRF = "This form has expired or was not sent from our page. Please reload and try again."
FORM_RATE = "You have sent several messages in a short time. Please wait a minute and try again."
FORM_STORE = "We could not save your message just now. Please try again in a moment."
FORM_TOO_LARGE = "Your message is too large. Please shorten it and try again."
FORM_UNREADABLE = "Your message could not be read. Please reload the page and try again."

# The agent web app (hub/web/ui): pages answer these as HTML, its scripts' calls as JSON.
UI_LOGIN_FAILED = "That email and password do not match an active account."
UI_PASSWORD_MISMATCH = "The two passwords are not the same."


def ui_signed_out() -> ApiError:
    return ApiError(401, "signed_out", "your session has ended; sign in again")


def ui_csrf() -> ApiError:
    return ApiError(
        403, "csrf", "this page has expired or the form was not sent from it; reload and retry"
    )


def ui_login_rate(retry_after: int) -> ApiError:
    return ApiError(429, "rate_limited", f"too many sign-in attempts; try again in {retry_after} s")


def ui_no_recipient(channel: str) -> ApiError:
    return ApiError(
        422, "no_recipient", f"the customer has no address the {channel} channel can reach"
    )


def ui_not_kept(what: str) -> ApiError:
    return ApiError(410, "not_kept", f"{what} was received but its content was not kept")


def ui_conflict(problem: str) -> ApiError:
    return ApiError(409, "conflict", problem)


# Routing engine (rules, templates, satisfaction links)
def template_error(detail: str) -> ApiError:
    return ApiError(422, "template_error", f"the template does not render: {detail}")


def rules_invalid(where: str, problem: str) -> ApiError:
    return ApiError(422, "invalid_rules", f"{where}: {problem}", {where: problem})


CSAT_THANKS = "Thank you! Your rating of {score} has been recorded."
CSAT_BAD_LINK = "This rating link is not valid. Please use the link from our message."

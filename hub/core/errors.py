"""Every error text a user can see, in one place, and the exception that carries it to HTTP."""

from __future__ import annotations

from collections.abc import Mapping


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message", "fields"?}}`` with ``status``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: Mapping[str, str] | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries: ``Retry-After`` (seconds) on a rate limit."""
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}

    def body(self) -> dict[str, object]:
        error: dict[str, object] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "missing, wrong or revoked bearer token")


ASSIGN_FORBIDDEN = (
    "assign conversations to other agents or take one a colleague who is online holds"
    " (ask a supervisor)"
)


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
    return ApiError(
        429,
        "rate_limited",
        f"too many requests; try again in {retry_after} s",
        retry_after=retry_after,
    )


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
UI_WRONG_PASSWORD = "Your current password is not right."


def ui_signed_out() -> ApiError:
    return ApiError(401, "signed_out", "your session has ended; sign in again")


def ui_csrf() -> ApiError:
    return ApiError(
        403, "csrf", "this page has expired or the form was not sent from it; reload and retry"
    )


def ui_login_locked(wait: str, at: str) -> str:
    """The sign-in page's words for a lockout: ``wait`` like "14 minutes", ``at`` "12:45 UTC"."""
    return (
        "Too many failed sign-ins from your network. For your security, "
        f"please try again in {wait} (after {at}). Signing in from another network still works."
    )


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


# Attachments (uploads, reply files, downloads)
def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / 1048576:.3g} MB"
    return f"{limit / 1024:.3g} KB" if limit >= 1024 else f"{limit} bytes"


def file_too_large(filename: str | None, limit: int) -> ApiError:
    return ApiError(
        413,
        "file_too_large",
        f"the file {filename + ' ' if filename else ''}is larger than the limit of {limit} bytes"
        f" ({_size(limit)})",
        {"file": f"larger than {limit} bytes"},
    )


def too_many_files(limit: int) -> ApiError:
    return ApiError(
        422, "too_many_files", f"at most {limit} files per message", {"files": "too many"}
    )


def unknown_file(file_id: int) -> ApiError:
    return ApiError(
        404,
        "unknown_file",
        f"file {file_id} does not exist or was not uploaded by you",
        {"attachments": f"unknown file {file_id}"},
    )


def file_attached(file_id: int) -> ApiError:
    return ApiError(
        409,
        "file_attached",
        f"file {file_id} is already attached to another message; upload it again",
        {"attachments": f"file {file_id} is already attached"},
    )


def unreadable_form(problem: str) -> ApiError:
    return ApiError(400, "unreadable_form", f"the form could not be read: {problem}")


def bad_upload(problem: str) -> ApiError:
    return ApiError(400, "bad_upload", f"the upload could not be read: {problem}")


# Files customers send through chat channels (hub/chat_files.py), shown on the attachment.
def chat_file_too_large(size: int, limit: int) -> str:
    return f"not kept: {size} bytes, larger than the {limit} byte limit"


def chat_file_failed(channel: str, error: str) -> str:
    return f"not kept: could not be fetched from {channel} ({error})"


# The web chat widget (hub/web/widget*.py): refusals before the WebSocket upgrade, then frames.
def widget_unknown(name: str) -> ApiError:
    return ApiError(404, "unknown_channel", f"no chat widget named {name!r} is configured")


def widget_origin(problem: str) -> ApiError:
    return ApiError(403, "forbidden_origin", problem)


def widget_not_websocket() -> ApiError:
    return ApiError(400, "websocket_expected", "this address takes a WebSocket upgrade only")


def widget_token() -> ApiError:
    return ApiError(
        401,
        "invalid_token",
        "send the visitor token of the chat (from its welcome frame) in the X-Widget-Token header",
    )


WIDGET_INVALID_TOKEN = "the visitor token is not valid; starting afresh"
WIDGET_UNAVAILABLE = "the message could not be stored; please resend"
WIDGET_RATE = "too many messages; try again in {wait} s"
WIDGET_INTERNAL = "internal error; it has been logged"


# Customer tags (hub/core/customer_tags.py)
CUSTOMER_TAG_PROBLEM = (
    "{tag!r} is not a tag (letters, digits, spaces, - and _; 64 characters at most)"
)
CUSTOMER_TAGS_TOO_MANY = "at most {limit} tags"

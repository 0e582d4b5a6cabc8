"""Every text a marketer sees about audiences: saved segments, the CSV import and consent."""

from __future__ import annotations

from collections.abc import Mapping

from hub.core.errors import ApiError

MARKETERS_ONLY = "work with segments and customer imports (marketers and admins)"
CONSENT_ROLE = "record consent"


def segment_invalid(path: str, problem: str) -> ApiError:
    """A definition that cannot be used: ``path`` says where (``definition.all[1].value``)."""
    return ApiError(422, "invalid_segment", f"{path}: {problem}", {path: problem})


def segment_name(problem: str) -> ApiError:
    return ApiError(422, "invalid_field", f"name: {problem}", {"name": problem})


def segment_name_taken(name: str) -> ApiError:
    return ApiError(
        409,
        "name_taken",
        f"a segment named {name!r} already exists; choose another name",
        {"name": "already used by another segment"},
    )


def segment_in_use(name: str, users: list[str]) -> ApiError:
    listed = ", ".join(users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
    return ApiError(
        409,
        "segment_in_use",
        f"segment {name!r} cannot be deleted: it is used by {listed}",
        {"segment": f"used by {listed}"},
    )


NO_CONDITION = "add at least one condition (a saved segment of everybody is refused)"
UNKNOWN_SEGMENT = "segment {id} does not exist"


# CSV import
def import_too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "import_too_large",
        f"the CSV file is larger than the limit of {limit} bytes ({limit // 1024} KB);"
        " split it and import the parts",
        {"file": f"larger than {limit} bytes"},
    )


def import_too_many_rows(limit: int) -> ApiError:
    return ApiError(
        413,
        "import_too_many_rows",
        f"the CSV file has more than {limit} rows; split it and import the parts",
        {"file": f"more than {limit} rows"},
    )


def import_unreadable(problem: str) -> ApiError:
    return ApiError(400, "import_unreadable", f"the CSV file could not be read: {problem}")


def import_rejected(count: int, first: str, rows: Mapping[str, str]) -> ApiError:
    """Problems on rows: nothing was imported. ``fields`` names each as ``row N: column``."""
    plural = "problem" if count == 1 else "problems"
    return ApiError(
        422, "import_rejected", f"nothing was imported: {count} {plural} (first: {first})", rows
    )


def import_conflict() -> ApiError:
    return ApiError(
        409,
        "import_conflict",
        "another change touched the same customers while importing; nothing was imported,"
        " please try again",
    )


NO_FILE = "send a CSV file (text/csv body, or multipart with a part named file)"
EMPTY_FILE = "the file is empty; the first line names the columns"
NO_IDENTITY_COLUMN = "name at least one of the columns email, telegram, slack"
DUPLICATE_COLUMN = "the column {column} appears twice"
UNKNOWN_COLUMN = (
    "unknown column {column!r}; known: name, email, phone, telegram, slack, company, tier, "
    "tags, locale, timezone, consent, attribute.<key>"
)
ROW_NEEDS_IDENTITY = "each row needs an email, telegram or slack address"
BAD_EMAIL = "{value!r} is not an email address"
BAD_TELEGRAM = "{value!r} is not a Telegram user id (digits)"
BAD_SLACK = "{value!r} is not a Slack user id (like U024BE7LH)"
BAD_PHONE = "{value!r} is not a phone number (digits, spaces, + - ( ) .)"
UNKNOWN_TIER = "unknown tier {value!r}; known: {known}"
BAD_TAG = "{value!r} is not a tag (letters, digits, spaces, - and _, at most 64)"
BAD_ATTRIBUTE_KEY = "attribute names are 1-64 letters, digits, _ . -"
BAD_LOCALE = "{value!r} is not a locale (like en or pt-BR)"
BAD_TIMEZONE = "{value!r} is not a time zone (like Europe/Paris)"
BAD_CONSENT = "{value!r}: write yes or no (or leave it empty)"
TOO_LONG = "longer than {limit} characters"
WRONG_FIELD_COUNT = "has {found} fields; the header has {expected}"
SAME_IDENTITY_TWICE = "{value!r} is also on row {row}"
IDENTITIES_OF_TWO = "the addresses on this row belong to two different customers"


# Consent
def consent_identity(identity_id: int, customer_id: int) -> ApiError:
    return ApiError(
        422,
        "invalid_field",
        f"identity: {identity_id} is not an identity of customer {customer_id}",
        {"identity": f"not an identity of customer {customer_id}"},
    )


FORM_NEWS_LABEL = "Send me news and offers by email (you can unsubscribe at any time)"

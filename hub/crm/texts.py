"""Every text the CRM side shows people: refusals of the API and the pages, page notices and the
import report's problems."""

from __future__ import annotations

from hub.core.errors import ApiError

EDIT_ACTION = "edit customer profiles (agents read them; ask a supervisor or admin)"
IMPORT_ACTION = "import customers (supervisors and admins only)"
SEGMENT_ACTION = "save insight lists as segments (marketers, supervisors and admins only)"
DIRECTORY_ACTION = "open the customer directory"
EXPORT_ACTION = "export a customer's personal data (supervisors and admins only)"
ERASE_ACTION = "erase customers (admins only)"

NOTICE_SAVED = "Customer profile saved."
NOTICE_IMPORTED = "Imported {created} new and {updated} updated customers."
NOTICE_ERASED = (
    "The customer's personal data was erased; their conversations still count in reports."
)
NOTICE_ALREADY_ERASED = "This customer was already erased; nothing was changed."
NOT_SENT_ERASED = "not sent: the customer was erased"
ERASE_WORD = "ERASE"
ERASE_CONFIRM_PROBLEM = "type ERASE (in capitals) to confirm; nothing was erased"
NOTICE_SEGMENT = "Saved as segment “{name}”; use it as the audience of a campaign."
IMPORT_REFUSED = "Nothing was imported: {count} row(s) have problems. Fix them and upload again."

TIER_PROBLEM = "must be one of: {tiers}"
ATTRIBUTE_KEY_PROBLEM = "{key!r} is not an attribute name (letters, digits, _, - and .)"
ATTRIBUTE_VALUE_PROBLEM = "attribute values are text, numbers, true/false or empty"
NOTES_PROBLEM = "notes are 20000 characters at most"
COMPANY_PROBLEM = "company is 300 characters at most"
NAME_PROBLEM = "name is 300 characters at most"


def not_editable(what: str) -> ApiError:
    return ApiError(422, "invalid_field", f"{what}: cannot be changed here", {what: "read-only"})


def unknown_insight(name: str) -> ApiError:
    return ApiError(404, "not_found", f"insight list {name} does not exist")


def csv_unreadable(problem: str) -> ApiError:
    return ApiError(400, "bad_csv", f"the CSV file could not be read: {problem}", {"file": problem})


def import_refused(problems: list[tuple[int, str, str]]) -> ApiError:
    fields = {f"row {row}: {field}": problem for row, field, problem in problems[:200]}
    return ApiError(
        422,
        "import_refused",
        IMPORT_REFUSED.format(count=len({row for row, _, _ in problems})),
        fields,
    )


def erase_unconfirmed() -> ApiError:
    return ApiError(422, "invalid_field", ERASE_CONFIRM_PROBLEM, {"confirm": ERASE_CONFIRM_PROBLEM})

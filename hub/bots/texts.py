"""What people read about bots: handoff reasons, timeline lines, refusals."""

from __future__ import annotations

from hub.core.errors import ApiError

REASONS = {
    "bot_asked": "the bot asked for a person",
    "customer_asked": "the customer asked for a person",
    "bot_timeout": "the bot did not answer in time",
    "bot_errors": "the bot failed repeatedly",
    "bot_disabled": "the bot was disabled",
    "agent_took_over": "an agent took over",
    "no_answer": "the bot had no answer",
    "no_progress": "the bot made no progress",
    "outside_bot_hours": "outside the bot's hours",
}
OPTIONS_HINT = "Reply with the number of your choice."


def image_line(url: str) -> str:
    return f"Image: {url}"


def reason_text(reason: str) -> str:
    return REASONS.get(reason, reason)


def handed_off(bot: str, reason: str, detail: str | None) -> str:
    extra = f" ({detail})" if detail else ""
    return f"Bot {bot} handed over to a person: {reason_text(reason)}{extra}"


def handed_back(bot: str, reason: str = "handback") -> str:
    if reason == "resolved":
        return f"Handed back to bot {bot}: the customer wrote again after the resolution"
    return f"Handed back to bot {bot}"


def outside_hours(bot: str) -> str:
    return f"Bot {bot} is outside its hours: the conversation goes to people"


def not_bots_turn(state: str) -> ApiError:
    return ApiError(
        409,
        "bot_not_in_charge",
        f"the conversation was handed over (state {state}): the bot's message was not delivered",
        {"state": state},
    )


def bad_reply(field: str, problem: str) -> ApiError:
    return ApiError(422, "invalid_bot_reply", f"{field}: {problem}", {field: problem})


def bad_fields(problems: dict[str, str]) -> ApiError:
    field, problem = next(iter(problems.items()))
    return ApiError(422, "invalid_field", f"{field}: {problem}", problems)


def no_bot() -> ApiError:
    return ApiError(404, "not_found", "this bot does not serve that conversation")


def cannot_hand_back(problem: str) -> ApiError:
    return ApiError(409, "cannot_hand_back", problem)


def name_taken(name: str) -> ApiError:
    return ApiError(
        409, "name_taken", f"a bot named {name!r} exists", {"name": "a bot of that name exists"}
    )


ADMIN_NOTICES = {
    "bot_saved": "Bot saved: the change applies to the next conversation and message.",
    "bot_enabled": "Bot enabled.",
    "bot_disabled": "Bot disabled: its conversations go to people.",
}

"""Turns without progress: a bot turn makes no progress when the bot answered with its
fallback (our webhook format's ``"understood": false``; Rasa's ``nlu_fallback`` /
``utter_default``) or said exactly what it said the turn before. ``max_turns_without_progress``
such turns in a row (0: no limit) and the hub hands the conversation to a person
(reason ``no_progress``)."""

from __future__ import annotations

import hashlib

from hub.bots import wire
from hub.db.bots_models import Bot, BotSession

REASON = "no_progress"


def answer_digest(reply: wire.BotReply) -> str | None:
    """What the bot said, as a digest (None: it said nothing)."""
    if not reply.messages:
        return None
    said = "\x1e".join(
        m.text + "\x1f" + "\x1f".join(f"{b.title}|{b.payload}|{b.url}" for b in m.buttons)
        for m in reply.messages
    )
    return hashlib.sha256(said.encode()).hexdigest()


def stuck(state: BotSession, bot: Bot, reply: wire.BotReply) -> bool:
    """Count this turn on the conversation's state; True when the bot has had its last chance."""
    digest = answer_digest(reply)
    repeated = digest is not None and digest == state.last_answer
    if reply.understood and not repeated:
        state.stalled = 0
    else:
        state.stalled = (state.stalled or 0) + 1
    if digest is not None:
        state.last_answer = digest
    limit = bot.max_turns_without_progress or 0
    return limit > 0 and state.stalled >= limit

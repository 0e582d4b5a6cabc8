"""Settings of the bot gateway (bots themselves are registered in the database)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_PHRASES = (
    "talk to a person",
    "talk to a human",
    "real person",
    "agent",
    "operator",
    "mensch",
    "mitarbeiter",
    "humain",
    "conseiller",
    "persona",
    "operador",
    "operatore",
)


class BotGatewaySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # What a customer writes to ask for a person (any language; matched as whole words).
    handoff_phrases: tuple[str, ...] = DEFAULT_PHRASES
    # How long a signed event stays acceptable to a bot (documented for bot authors).
    replay_window_seconds: int = Field(default=300, ge=10, le=3600)
    # Attempts per event before it counts as a bot error.
    max_attempts: int = Field(default=3, ge=1, le=10)

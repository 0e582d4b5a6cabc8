"""``previous_secret_keys``: the ``secret_key`` values used before the current one, newest
first, so that channel secrets sealed under them still open until ``relaydesk secrets reseal``
has sealed them under the current key (docs/admin-settings.md, "Changing secret_key").

In the config file a list; in the environment (``RELAYDESK_PREVIOUS_SECRET_KEYS``) one key, or
several separated by commas, or a JSON list."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator


def _keys(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def _long_enough(value: tuple[str, ...]) -> tuple[str, ...]:
    for key in value:
        if len(key) < 16:
            raise ValueError("each key must be at least 16 characters, as secret_key")
    return value


PreviousKeys = Annotated[tuple[str, ...], BeforeValidator(_keys), AfterValidator(_long_enough)]

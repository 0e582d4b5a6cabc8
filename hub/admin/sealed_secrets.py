"""Channel secrets an admin replaced in the console are stored sealed: each value in the
``channel_secrets`` overlay row is a Fernet token (AES in CBC mode with an HMAC) under a key
derived from the settings' ``secret_key``, written as ``fernet:<token>``. A database dump or a
backup therefore holds no usable token or password.

Rows written before sealing hold plain strings; they keep working (``open_secrets`` passes them
through) and are sealed the next time any secret is saved. A value sealed under another
``secret_key`` cannot be opened: it is left out (logged, never the value), so the channel runs
on the file's value until an admin saves the secret again."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)
PREFIX = "fernet:"
_PURPOSE = b"relaydesk settings overlay: channel secrets"


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def seal_secrets(secret_key: str, secrets: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``{channel: {field: value}}`` with every value sealed (already sealed ones kept)."""
    box = _fernet(secret_key)
    sealed: dict[str, dict[str, str]] = {}
    for channel, fields in secrets.items():
        if not isinstance(fields, Mapping):
            continue
        sealed[channel] = {
            field: value if is_sealed(value) else PREFIX + box.encrypt(value.encode()).decode()
            for field, value in fields.items()
            if isinstance(value, str)
        }
    return sealed


def open_secrets(secret_key: str, stored: Any) -> dict[str, dict[str, str]]:
    """The stored row's secrets in the clear (plain values from before sealing pass through;
    one that cannot be opened is left out)."""
    if not isinstance(stored, Mapping):
        return {}
    box = _fernet(secret_key)
    opened: dict[str, dict[str, str]] = {}
    for channel, fields in stored.items():
        if not isinstance(fields, Mapping):
            continue
        for field, value in fields.items():
            if not isinstance(value, str):
                continue
            if is_sealed(value):
                try:
                    value = box.decrypt(value.removeprefix(PREFIX).encode()).decode()
                except InvalidToken:
                    log.warning(
                        "channel secret %s.%s cannot be opened with this secret_key: left out",
                        channel,
                        field,
                    )
                    continue
            opened.setdefault(channel, {})[field] = value
    return opened

"""Channel secrets an admin replaced in the console are stored sealed: each value in the
``channel_secrets`` overlay row is a Fernet token (AES in CBC mode with an HMAC) under a key
derived from the settings' ``secret_key``, written as ``fernet:<token>``. A database dump or a
backup therefore holds no usable token or password.

Rows written before sealing hold plain strings; they keep working (``open_secrets`` passes them
through) and are sealed the next time any secret is saved.

Changing ``secret_key``: list the old key(s) in ``previous_secret_keys`` (newest first). Values
sealed under any of them are opened still (Fernet's MultiFernet); saving any secret, or
``relaydesk secrets reseal`` (``reseal`` here), seals every value under the current key again,
after which the old keys can be dropped. A value sealed under a key listed nowhere cannot be
opened: it is left out (logged, never the value), so the channel runs on the file's value until
an admin saves the secret again."""

from __future__ import annotations

import base64
import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
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


def _keyring(secret_key: str, previous: Sequence[str] = ()) -> MultiFernet:
    """Seals under ``secret_key``; opens under it or any of the ``previous`` keys."""
    return MultiFernet([_fernet(key) for key in (secret_key, *previous)])


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


def _stored_values(stored: Any) -> Iterator[tuple[str, str, str]]:
    """``(channel, field, value)`` of each string value of a stored row (anything else is
    skipped)."""
    if not isinstance(stored, Mapping):
        return
    for channel, fields in stored.items():
        if isinstance(fields, Mapping):
            for field, value in fields.items():
                if isinstance(value, str):
                    yield str(channel), str(field), value


def open_secrets(
    secret_key: str, stored: Any, previous: Sequence[str] = ()
) -> dict[str, dict[str, str]]:
    """The stored row's secrets in the clear (plain values from before sealing pass through;
    sealed ones open under ``secret_key`` or one of the ``previous`` keys; one that cannot be
    opened is left out)."""
    box = _keyring(secret_key, previous)
    opened: dict[str, dict[str, str]] = {}
    for channel, field, value in _stored_values(stored):
        if is_sealed(value):
            try:
                value = box.decrypt(value.removeprefix(PREFIX).encode()).decode()
            except InvalidToken:
                log.warning(
                    "channel secret %s.%s cannot be opened with secret_key or "
                    "previous_secret_keys: left out",
                    channel,
                    field,
                )
                continue
        opened.setdefault(channel, {})[field] = value
    return opened


@dataclass
class Resealed:
    """What ``reseal`` did, value by value: ``value`` is the row to store."""

    value: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    # opened under an old key, or plain: sealed under secret_key now
    resealed: list[str] = dataclasses.field(default_factory=list)
    # sealed under secret_key already
    current: list[str] = dataclasses.field(default_factory=list)
    # under no known key: kept as they are
    unreadable: list[str] = dataclasses.field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.resealed)


def reseal(
    secret_key: str,
    stored: Any,
    previous: Sequence[str] = (),
    progress: Callable[[str, str], None] | None = None,
) -> Resealed:
    """Every value of a stored row sealed under ``secret_key`` (those under a previous key, and
    plain ones of old, sealed afresh); ``progress(name, outcome)`` hears of each value. A
    value no key opens is kept unchanged (an admin replaces it)."""
    done = Resealed()
    current, keyring = _fernet(secret_key), _keyring(secret_key, previous)
    for channel, name, value in _stored_values(stored):
        label, outcome = f"{channel}.{name}", "re-sealed under the current secret_key"
        if not is_sealed(value):
            value = PREFIX + current.encrypt(value.encode()).decode()
            done.resealed.append(label)
        else:
            token = value.removeprefix(PREFIX).encode()
            try:
                current.decrypt(token)
                done.current.append(label)
                outcome = "already under the current secret_key"
            except InvalidToken:
                try:
                    value = PREFIX + keyring.rotate(token).decode()
                    done.resealed.append(label)
                except InvalidToken:
                    done.unreadable.append(label)
                    outcome = "UNREADABLE under every key: kept; replace it in the console"
        done.value.setdefault(channel, {})[name] = value
        if progress is not None:
            progress(label, outcome)
    return done

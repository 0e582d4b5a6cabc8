"""Which channel settings are secrets (also inside a table such as ``imap``), and replacing
them keeps every other setting of the channel."""

from __future__ import annotations

import pytest

from channels.registry import validate_channel_config
from hub.admin.settings_store import SettingInvalid, secret_fields, secret_value, with_secrets

MAILBOX = {
    "kind": "email",
    "address": "help@example.com",
    "smtp_host": "smtp.example.com",
    "imap": {"host": "imap.example.com", "username": "help", "password": "old"},
}


def test_a_mailbox_secrets_are_the_smtp_and_imap_passwords() -> None:
    config = validate_channel_config("mail", MAILBOX)
    assert secret_fields(config) == ("smtp_password", "imap.password")
    replaced = with_secrets({"mail": config}, {"mail": {"imap.password": "new", "address": "x"}})
    mailbox = replaced["mail"]
    assert secret_value(mailbox, "imap.password") == "new"
    assert mailbox.address == "help@example.com"  # type: ignore[attr-defined]  # not a secret


def test_a_secret_that_does_not_fit_names_the_field() -> None:
    api = validate_channel_config("api", {"kind": "api", "token": "t" * 20})
    with pytest.raises(SettingInvalid) as refused:
        with_secrets({"api": api}, {"api": {"token": "short"}})
    assert refused.value.field == "channels.api.token"

"""Settings: the TOML file, ``RELAYDESK_*`` environment overrides, and one clear ConfigError line
naming the key for every kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config.settings import ConfigError, Settings, load_settings
from tests.conftest import CONFIG

SECRET = "0123456789abcdef-test"
BASE = f"""
secret_key = "{SECRET}"

[web]
port = 8080

[channels.mail]
kind = "email"
address = "support@example.com"

[channels.contact]
kind = "form"
reply_via = "mail"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "relaydesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, **environ: str) -> Settings:
    return load_settings(write(tmp_path, text), environ=environ)


def error(tmp_path: Path, text: str, **environ: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, **environ)
    message = str(caught.value)
    assert "\n" not in message  # one line
    assert message.startswith("config error: ")
    return message


def test_shipped_config_loads() -> None:
    settings = load_settings(CONFIG, environ={})
    assert set(settings.channels) >= {"mail", "contact", "api"}
    assert settings.channels["contact"].reply_via == "mail"
    assert settings.routing.rules[0].team == "billing"


def test_defaults_fill_what_the_file_leaves_out(tmp_path: Path) -> None:
    settings = load(tmp_path, BASE)
    assert settings.database.url.startswith("sqlite+aiosqlite://")
    assert settings.outbox.max_attempts == 20
    assert settings.sla["urgent"].first_response_minutes == 15


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        BASE,
        RELAYDESK_DATABASE_URL="postgresql+asyncpg://app@db.internal/relaydesk",
        RELAYDESK_SECRET_KEY="another-secret-from-the-environment",
        RELAYDESK_WEB__PORT="9000",
        RELAYDESK_CAPTURE__ENABLED="false",
        RELAYDESK_OUTBOX__BASE_DELAY_SECONDS="0.5",
        RELAYDESK_CHANNELS__MAIL__SMTP_PORT="2526",
        RELAYDESK_TEST_DATABASE_URL="postgresql://ignored",
        RELAYDESK_CONFIG="/not/used/when/a/path/is/given.toml",
        HOME="/root",
    )
    assert settings.database.url == "postgresql+asyncpg://app@db.internal/relaydesk"
    assert settings.secret_key == "another-secret-from-the-environment"
    assert settings.web.port == 9000
    assert settings.capture.enabled is False
    assert settings.outbox.base_delay_seconds == 0.5
    assert settings.channels["mail"].model_dump()["smtp_port"] == 2526


def test_config_path_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("port = 8080", "port = 8181"))
    settings = load_settings(environ={"RELAYDESK_CONFIG": str(path)})
    assert settings.web.port == 8181


def test_explicit_overrides_beat_the_environment(tmp_path: Path) -> None:
    settings = load_settings(
        write(tmp_path, BASE), environ={"RELAYDESK_WEB__PORT": "9000"}, overrides={"web.port": 7000}
    )
    assert settings.web.port == 7000


def test_missing_secret_key(tmp_path: Path) -> None:
    message = error(tmp_path, BASE.replace(f'secret_key = "{SECRET}"', ""))
    assert message.startswith("config error: secret_key: Field required")
    assert str(tmp_path / "relaydesk.toml") in message


def test_short_secret_key_is_named_but_not_shown(tmp_path: Path) -> None:
    message = error(tmp_path, BASE.replace(SECRET, "hunter2"))
    assert message.startswith("config error: secret_key: ")
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/relaydesk", "sqlite:///plain-driver.db", "not a url"]
)
def test_bad_database_url(tmp_path: Path, url: str) -> None:
    message = error(tmp_path, BASE + f'\n[database]\nurl = "{url}"\n')
    assert message.startswith("config error: database.url: must start with sqlite+aiosqlite://")


def test_bad_database_url_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    message = error(tmp_path, BASE, RELAYDESK_DATABASE_URL="mysql://x")
    assert message.startswith("config error: database.url: ")
    assert "set by RELAYDESK_DATABASE_URL" in message


def test_unknown_channel_kind(tmp_path: Path) -> None:
    message = error(tmp_path, BASE + '\n[channels.sms]\nkind = "sms"\n')
    assert message.startswith("config error: channels.sms.kind: unknown channel kind 'sms'")
    assert "known: " in message and "email" in message


def test_form_without_reply_via(tmp_path: Path) -> None:
    message = error(tmp_path, BASE.replace('reply_via = "mail"', ""))
    assert message.startswith("config error: channels.contact.reply_via: a form needs a channel")


@pytest.mark.parametrize("key", ["reply_via", "ack_via"])
def test_reference_to_a_channel_that_does_not_exist(tmp_path: Path, key: str) -> None:
    lines = (
        'reply_via = "mailbox"' if key == "reply_via" else 'reply_via = "mail"\nack_via = "mailbox"'
    )
    message = error(tmp_path, BASE.replace('reply_via = "mail"', lines))
    assert message == f"config error: channels.contact.{key}: no channel named 'mailbox'"


def test_routing_rule_naming_an_unknown_channel(tmp_path: Path) -> None:
    text = BASE + '\n[[routing.rules]]\nname = "x"\nteam = "t"\nchannels = ["fax"]\n'
    assert error(tmp_path, text) == "config error: routing.rules.0.channels: unknown channel 'fax'"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (BASE.replace("port = 8080", 'port = "eighty"'), "web.port"),
        (BASE.replace("port = 8080", "port = 70000"), "web.port"),
        (BASE + "\n[outbox]\nmax_attempts = 0\n", "outbox.max_attempts"),
        (BASE + "\n[capture]\nenabled = [1]\n", "capture.enabled"),
        (
            BASE.replace('address = "support@example.com"', 'address = "x@y.z"\nsmtp_port = "25a"'),
            "channels.mail.smtp_port",
        ),
        (BASE + "\n[sla.normal]\nfirst_response_minutes = 5\n", "sla.normal.resolution_minutes"),
    ],
)
def test_wrong_type_or_range_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    assert error(tmp_path, text).startswith(f"config error: {key}: ")


def test_wrong_type_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    message = error(tmp_path, BASE, RELAYDESK_WEB__PORT="eighty")
    assert message.startswith("config error: web.port: Input should be a valid integer")
    assert message.endswith("(set by RELAYDESK_WEB__PORT)")


def test_unknown_keys_are_refused(tmp_path: Path) -> None:
    assert error(tmp_path, BASE + "\n[outbox]\nretries = 3\n").startswith(
        "config error: outbox.retries: Extra inputs are not permitted"
    )
    message = error(tmp_path, BASE, RELAYDESK_WEB__PROT="9000")
    assert message.startswith("config error: web.prot: Extra inputs are not permitted")
    assert "RELAYDESK_WEB__PROT" in message


def test_channel_that_is_not_a_table(tmp_path: Path) -> None:
    text = BASE.replace("[channels.mail]", "[channels]\nold = 3\n\n[channels.mail]")
    assert error(tmp_path, text).startswith("config error: channels.old: must be a table")


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^config error: file not found: .*nope\.toml$"):
        load_settings(tmp_path / "nope.toml", environ={})
    message = error(tmp_path, BASE + "\nport = = 3\n")
    assert "not valid TOML" in message and "line" in message

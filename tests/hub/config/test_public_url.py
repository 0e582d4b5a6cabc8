"""Links the hub writes into mails (satisfaction surveys, unsubscribe) use ``web.public_url``;
left unset it follows the address the hub really serves on, so moving the port keeps them alive."""

from __future__ import annotations

from hub.config.settings import load_settings
from tests.conftest import CONFIG


def test_the_shipped_config_follows_the_port_it_serves_on() -> None:
    assert load_settings(CONFIG, environ={}).web.public_url == "http://127.0.0.1:8080"
    moved = load_settings(CONFIG, environ={}, overrides={"web.port": 9090})
    assert moved.web.public_url == "http://127.0.0.1:9090"
    from_env = load_settings(CONFIG, environ={"RELAYDESK_WEB__PORT": "9191"})
    assert from_env.web.public_url == "http://127.0.0.1:9191"


def test_a_host_bound_on_every_interface_links_to_this_machine() -> None:
    everywhere = load_settings(CONFIG, environ={}, overrides={"web.host": "0.0.0.0"})
    assert everywhere.web.public_url == "http://127.0.0.1:8080"
    ipv6 = load_settings(CONFIG, environ={}, overrides={"web.host": "::1", "web.port": 9000})
    assert ipv6.web.public_url == "http://[::1]:9000"


def test_a_public_url_set_explicitly_is_kept_whatever_the_port() -> None:
    settings = load_settings(
        CONFIG,
        environ={"RELAYDESK_WEB__PUBLIC_URL": "https://support.example.com"},
        overrides={"web.port": 9090},
    )
    assert settings.web.public_url == "https://support.example.com"

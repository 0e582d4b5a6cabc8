"""What ``relaydesk serve`` settles before it starts: every port the hub will listen on, with the
setting that chose it (moved together when ``--port`` moves the hub, checked free before start so
a busy one is one line naming its setting), and the banner it prints once it listens."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.config.settings import Settings, load_settings, local_url
from hub.demo import DemoAccount


class PortBusy(Exception):
    """A port the hub needs is taken; the message names the setting and how to change it."""


@dataclass(frozen=True, slots=True)
class Listener:
    """One address the hub listens on and where it was set."""

    what: str
    host: str
    port: int
    setting: str  # the dotted key
    flag: str  # the serve option that sets it ("" for none)

    @property
    def env(self) -> str:
        parts = self.setting.split(".")
        return "RELAYDESK_" + "__".join(part.upper() for part in parts)


def listeners(settings: Settings) -> list[Listener]:
    """Every address ``serve`` opens, web first."""
    found = [Listener("web", settings.web.host, settings.web.port, "web.port", "--port")]
    if settings.capture.enabled:
        capture = settings.capture
        found.append(
            Listener("capture SMTP", capture.host, capture.port, "capture.port", "--capture-port")
        )
    for name, config in settings.channels.items():
        listen = getattr(config, "listen", None)
        address = listen() if callable(listen) else None
        if address is not None:
            key = f"channels.{name}.inbound_smtp"
            host, port = address
            found.append(Listener(f"inbound SMTP ({name})", host, port, key, "--smtp-port"))
    return found


def free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def _overrides_for(
    settings: Settings, capture_port: int | None, smtp_port: int | None, moved: bool
) -> dict[str, Any]:
    """Settings overrides that put capture and inbound SMTP on the ports asked for: port 0, or
    no port given while ``--port`` moved the hub, is a free port chosen now. Email channels that
    send to the capture server keep sending to it."""
    overrides: dict[str, Any] = {}
    capture = settings.capture
    if capture.enabled and capture_port is None and (moved or capture.port == 0):
        capture_port = 0
    if capture.enabled and capture_port == 0:
        capture_port = free_port(capture.host)
    if capture.enabled and capture_port is not None:
        overrides["capture.port"] = capture_port
        for name, config in settings.channels.items():
            sends_to = (getattr(config, "smtp_host", None), getattr(config, "smtp_port", None))
            if sends_to == (capture.host, capture.port):
                overrides[f"channels.{name}.smtp_port"] = capture_port
    for listener in listeners(settings)[1:]:
        if not listener.setting.startswith("channels."):
            continue
        port = smtp_port
        if port == 0 or (port is None and (moved or listener.port == 0)):
            port = free_port(listener.host)
        if port is not None:
            host = f"[{listener.host}]" if ":" in listener.host else listener.host
            overrides[listener.setting] = f"{host}:{port}"
    return overrides


def settle_ports(
    settings: Settings,
    reload: Callable[[Mapping[str, Any]], Settings],
    *,
    capture_port: int | None,
    smtp_port: int | None,
    moved: bool,
) -> Settings:
    """The settings ``serve`` runs with: ports chosen (see _overrides_for), then each checked
    free; ``reload`` loads the settings again with more overrides."""
    extra = _overrides_for(settings, capture_port, smtp_port, moved)
    settled = reload(extra) if extra else settings
    for listener in listeners(settled):
        check_free(listener)
    return settled


def check_free(listener: Listener) -> None:
    family = socket.AF_INET6 if ":" in listener.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((listener.host, listener.port))
        except OSError as exc:
            raise PortBusy(busy_message(listener, exc)) from None


def busy_message(listener: Listener, exc: OSError) -> str:
    why = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
    change = f"{listener.flag} PORT, " if listener.flag else ""
    return (
        f"{why}: {listener.host}:{listener.port} ({listener.what}, setting {listener.setting}); "
        f"change it with {change}{listener.env} or [{listener.setting.rpartition('.')[0]}] "
        "in the config file"
    )


def reloader(path: Any, overrides: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], Settings]:
    def reload(extra: Mapping[str, Any]) -> Settings:
        return load_settings(path, overrides={**overrides, **extra})

    return reload


def banner_lines(
    settings: Settings, accounts: list[DemoAccount], password: str, token: str | None
) -> list[str]:
    """What ``serve`` prints once it listens: every URL, and the demo logins if there are any."""
    web = settings.web
    base = local_url(web.host, web.port)
    lines = [
        f"Relaydesk listening on {base}",
        f"  inbox:          {base}/ui/inbox   (sign in at {base}/ui/login)",
        f"  admin:          {base}/ui/admin",
    ]
    kinds: Mapping[str, str] = {name: c.kind for name, c in settings.channels.items()}
    for name, kind in kinds.items():
        if kind == "widget":
            lines.append(f"  chat widget:    {base}/widget/{name}/demo   (on a sample page)")
            embed = f"{base}/widget/{name}/embed.js"
            lines.append(f"  widget embed:   {embed}   (one script tag on a site)")
    for name, kind in kinds.items():
        if kind == "form":
            lines.append(f"  contact form:   {base}/forms/{name}")
    lines.append(f"  API docs:       {base}/api/v1/openapi.json   (the API is under /api/v1)")
    if settings.capture.enabled:
        capture = settings.capture
        smtp = f"SMTP {capture.host}:{capture.port}"
        lines.append(f"  captured mail:  {base}/dev/mail   ({smtp}, capture.port)")
    for listener in listeners(settings):
        if listener.setting.startswith("channels."):
            lines.append(f"  {listener.what}: {listener.host}:{listener.port}")
    if web.public_url != base:
        lines.append(f"  links in mails: {web.public_url}   (web.public_url)")
    if accounts:
        lines.append(f"Demo logins (password {password}):")
        width = max(len(account.role) for account in accounts)
        lines += [f"  {a.role.ljust(width)}  {a.email}   {a.name}" for a in accounts]
    if token:
        lines.append(f"API token (the demo supervisor's, sees support and billing): {token}")
    return lines

"""The ``relaydesk`` command. The only place that prints for humans and exits with a status."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from alembic.util import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from hub import cli_backup, cli_customers, cli_reports, cli_secrets, cli_serve
from hub.assembly import assemble, migrate, session_of
from hub.cli_campaigns import add_campaign_parsers
from hub.config.settings import ConfigError, Settings, load_settings
from hub.core.staff import StaffError, add_agent, agent_by_email, create_token, set_password
from hub.db.models import Presence, Role
from hub.platform.clock import SystemClock
from hub.platform.logs import configure_logging
from hub.platform.metrics import default_process

EXIT_USAGE = 2
DATABASE_ERRORS = (OSError, SQLAlchemyError, CommandError)


class CliError(Exception):
    """A message for the user; the command exits non-zero."""


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "host", None) is not None:
        overrides["web.host"] = args.host
    if getattr(args, "port", None) is not None:
        overrides["web.port"] = args.port
    config = getattr(args, "config", None)
    return load_settings(Path(config) if config else None, overrides=overrides)


def _database_error(settings: Settings, exc: BaseException) -> CliError:
    url = make_url(settings.database.url).render_as_string(hide_password=True)
    detail = str(getattr(exc, "orig", None) or exc or type(exc).__name__).strip()
    return CliError(f"cannot use the database {url}: {detail.splitlines()[0]}")


async def _with_session(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    try:
        async with session_of(settings) as session:
            return await work(session)
    except DATABASE_ERRORS as exc:
        raise _database_error(settings, exc) from None


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from hub.app import create_app
    from hub.demo import DEMO_PASSWORD, DemoAccount, demo_accounts

    settings = _serve_settings(args)
    operations = settings.operations
    if operations.json_logs:
        configure_logging(json_lines=True, process=operations.process or default_process())

    if args.workers > 1:
        _check_workers(settings, args.workers)
    token = asyncio.run(_seed_demo(settings)).token if args.demo else None
    accounts: list[DemoAccount] = asyncio.run(_with_session(settings, demo_accounts))

    def banner(_aiohttp_banner: str = "") -> None:  # called once the hub is listening
        for line in cli_serve.banner_lines(settings, accounts, DEMO_PASSWORD, token):
            print(line, flush=True)
        if args.workers > 1:
            print(f"  ({args.workers} worker processes; docs/deploy.md)", flush=True)
        print("Stop with Ctrl+C.", flush=True)

    if args.workers > 1:
        return _serve_workers(settings, args.workers, banner)
    app = create_app(settings, long_running=True)

    try:
        web.run_app(app, host=settings.web.host, port=settings.web.port, print=banner)
    except (SQLAlchemyError, CommandError) as exc:
        raise _database_error(settings, exc) from None
    except OSError as exc:
        raise CliError(f"cannot start: {exc}") from None
    return 0


def _check_workers(settings: Settings, workers: int) -> None:
    from hub.workers import WorkersRefused, check

    try:
        check(settings, workers)
    except WorkersRefused as exc:
        raise CliError(str(exc)) from None


def _serve_workers(settings: Settings, workers: int, ready: Callable[[], None]) -> int:
    from hub.workers import WorkersRefused, serve

    try:
        serve(settings, workers, ready)
    except WorkersRefused as exc:
        raise CliError(str(exc)) from None
    except DATABASE_ERRORS as exc:
        raise _database_error(settings, exc) from None
    return 0


def _serve_settings(args: argparse.Namespace) -> Settings:
    """The settings with every port settled (see hub/cli_serve.py); a busy one is a CliError."""
    config = getattr(args, "config", None)
    overrides: dict[str, Any] = {}
    if args.host is not None:
        overrides["web.host"] = args.host
    if args.port is not None:
        overrides["web.port"] = args.port
    settings = _settings(args)
    reload = cli_serve.reloader(Path(config) if config else None, overrides)
    try:
        return cli_serve.settle_ports(
            settings,
            reload,
            capture_port=args.capture_port,
            smtp_port=args.smtp_port,
            moved=args.port is not None,
        )
    except cli_serve.PortBusy as exc:
        raise CliError(f"cannot start: {exc}") from None


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        migrate(settings)
    except DATABASE_ERRORS as exc:
        raise _database_error(settings, exc) from None
    print("database is up to date")
    return 0


def _password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if args.password:
        return str(args.password)
    if sys.stdin.isatty():
        return getpass.getpass("Password for the new agent (empty for none): ") or None
    return None


def cmd_agents_add(args: argparse.Namespace) -> int:
    settings = _settings(args)
    password = _password(args)

    async def work(session: Any) -> dict[str, Any]:
        agent = await add_agent(
            session,
            email=args.email,
            name=args.name or "",
            role=Role(args.role),
            now=SystemClock().now(),
            password=password,
            teams=tuple(args.team or ()),
            capacity=args.capacity,
            presence=Presence(args.presence),
        )
        return {"id": agent.id, "email": agent.email, "role": agent.role}

    created = asyncio.run(_with_session(settings, work))
    if args.json:
        print(json.dumps(created))
    else:
        print(f"agent {created['email']} created (id {created['id']}, role {created['role']})")
    return 0


def cmd_agents_passwd(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"New password for {args.email}: ")
        if getpass.getpass("Repeat it: ") != password:
            raise CliError("the two passwords are not the same")
    else:
        raise CliError("no terminal to ask for the password; pipe it in with --password-stdin")

    async def work(session: Any) -> str:
        agent = await agent_by_email(session, args.email)
        if agent is None:
            raise CliError(f"no agent with email {args.email}")
        await set_password(session, agent, password)
        return str(agent.email)

    email = asyncio.run(_with_session(settings, work))
    print(f"password of {email} changed; their web sessions were ended")
    return 0


def cmd_tokens_create(args: argparse.Namespace) -> int:
    settings = _settings(args)

    async def work(session: Any) -> str:
        agent = await agent_by_email(session, args.agent)
        if agent is None:
            raise CliError(f"no agent with email {args.agent}")
        return await create_token(session, agent, SystemClock().now(), args.label or "")

    print(asyncio.run(_with_session(settings, work)))
    return 0


async def _seed_demo(settings: Settings) -> Any:
    from hub.demo import seed_everything

    try:
        return await seed_everything(settings, SystemClock().now())
    except DATABASE_ERRORS as exc:
        raise _database_error(settings, exc) from None


def cmd_demo(args: argparse.Namespace) -> int:
    from hub.demo import DEMO_PASSWORD, demo_accounts

    settings = _settings(args)
    login = asyncio.run(_seed_demo(settings))
    if args.json:
        print(json.dumps({"email": login.email, "password": login.password, "token": login.token}))
        return 0
    accounts = asyncio.run(_with_session(settings, demo_accounts))
    base = settings.web.public_url.rstrip("/")
    seeded = f" ({login.conversations} conversations)" if login.conversations else ""
    print("Demo data " + ("created" if login.created else "already present") + seeded + ".")
    print(f"  Sign in at {base}/ui/login as any of these (password {DEMO_PASSWORD}):")
    for account in accounts:
        print(f"    {account.role.ljust(10)}  {account.email}   {account.name}")
    print(f"  Demo agent login:  {login.email} / {login.password}  (supervisor: support, billing)")
    print(f"  Demo agent token:  {login.token}")
    print(f"  Try:  curl -H 'Authorization: Bearer {login.token}' {base}/api/v1/conversations")
    return 0


def cmd_ingest_email(args: argparse.Namespace) -> int:
    from hub.email.cli_ingest import NoSuchMailbox, ingest_files, pick_channel

    settings = _settings(args)

    def emit(line: dict[str, Any]) -> None:
        print(json.dumps(line), flush=True)

    async def run(channel: str, paths: list[Path]) -> int:
        async with assemble(settings, start_workers=False) as hub:
            return await ingest_files(hub.email.inbox, channel, paths, emit)

    try:
        channel = pick_channel(settings, args.channel)
    except NoSuchMailbox as exc:
        raise CliError(str(exc)) from None
    failures = asyncio.run(run(channel, [Path(name) for name in args.files]))
    return 1 if failures else 0


def cmd_telegram_set_webhook(args: argparse.Namespace) -> int:
    from hub.chat.service import WebhookSetupError, register_webhook

    settings = _settings(args)

    async def work(session: Any) -> str:
        now = SystemClock().now()
        return await register_webhook(
            session, settings, args.channel, args.url, now, drop_pending=args.drop_pending_updates
        )

    try:
        path = asyncio.run(_with_session(settings, work))
    except WebhookSetupError as exc:
        raise CliError(str(exc)) from None
    print(f"Telegram now sends updates for {args.channel} to {args.url}")
    print("  with a generated secret token, stored in the database; the hub checks it.")
    if not args.url.rstrip("/").endswith(path):
        print(f"  note: the hub serves this channel's webhook at {path}", file=sys.stderr)
    return 0


def cmd_campaigns(args: argparse.Namespace) -> int:
    from hub.cli_campaigns import CampaignCliError, run_campaigns

    settings = _settings(args)
    try:
        return run_campaigns(args, settings)
    except CampaignCliError as exc:
        raise CliError(str(exc)) from None
    except DATABASE_ERRORS as exc:
        raise _database_error(settings, exc) from None


def cmd_reports_rebuild(args: argparse.Namespace) -> int:
    try:
        return cli_reports.cmd_reports_rebuild(args, _settings(args), _with_session)
    except cli_reports.BadDate as exc:
        raise CliError(str(exc)) from None


def cmd_backup(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        result: int = args.backup_command(args, settings)
    except cli_backup.BackupError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"{exc.strerror or exc}: {exc.filename or args.file}") from None
    return result


def cmd_customers(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        result: int = args.customers_run(args, settings, _with_session)
    except cli_customers.CustomerCliError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"{exc.strerror or exc}: {exc.filename or args.file}") from None
    return result


def cmd_secrets(args: argparse.Namespace) -> int:
    result: int = args.secrets_run(args, _settings(args), _with_session)
    return result


def build_parser() -> argparse.ArgumentParser:
    # --config is accepted before or after the command: relaydesk serve --config FILE
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        help="config file (default: $RELAYDESK_CONFIG or config/relaydesk.toml)",
    )
    parser = argparse.ArgumentParser(prog="relaydesk", description=__doc__, parents=[common])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="run the hub: web, capture SMTP, dispatcher", parents=[common]
    )
    serve.add_argument("--host", help="address to serve on (web.host)")
    serve.add_argument(
        "--port",
        type=int,
        help="web port (web.port); the capture and inbound SMTP servers then take free ports "
        "unless given below",
    )
    serve.add_argument(
        "--capture-port", type=int, help="capture SMTP port (capture.port; 0: a free one)"
    )
    serve.add_argument(
        "--smtp-port",
        type=int,
        help="inbound SMTP port (channels.NAME.inbound_smtp; 0: a free one)",
    )
    serve.add_argument(
        "--demo", action="store_true", help="seed the demo data first and print an API token"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="run N hub processes on the port (PostgreSQL only; see docs/deploy.md)",
    )
    serve.set_defaults(handler=cmd_serve)

    commands.add_parser(
        "migrate", help="bring the database schema up to date", parents=[common]
    ).set_defaults(handler=cmd_migrate)

    agents = commands.add_parser("agents", help="manage agents").add_subparsers(
        dest="agents_command", required=True
    )
    add = agents.add_parser("add", help="create an agent", parents=[common])
    add.add_argument("email")
    add.add_argument("--name", default="")
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.AGENT.value)
    add.add_argument("--team", action="append", help="team slug (repeatable)")
    add.add_argument("--capacity", type=int, default=10)
    add.add_argument("--presence", choices=[p.value for p in Presence], default="offline")
    add.add_argument("--password", help="password (prefer --password-stdin)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument("--json", action="store_true", help="print the new agent as JSON")
    add.set_defaults(handler=cmd_agents_add)
    passwd = agents.add_parser("passwd", help="set an agent's password", parents=[common])
    passwd.add_argument("email")
    passwd.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    passwd.set_defaults(handler=cmd_agents_passwd)

    tokens = commands.add_parser("tokens", help="manage API tokens").add_subparsers(
        dest="tokens_command", required=True
    )
    create = tokens.add_parser(
        "create", help="create an API token; prints the token alone", parents=[common]
    )
    create.add_argument("--agent", required=True, help="the agent's email")
    create.add_argument("--label", default="")
    create.set_defaults(handler=cmd_tokens_create)

    ingest = commands.add_parser("ingest", help="import messages from files").add_subparsers(
        dest="ingest_command", required=True
    )
    ingest_email = ingest.add_parser("email", help="import raw RFC 822 files; one JSON line each")
    ingest_email.add_argument("files", nargs="+", metavar="FILE")
    ingest_email.add_argument("--channel", help="email channel to file them under (default: first)")
    ingest_email.set_defaults(handler=cmd_ingest_email)

    telegram = commands.add_parser("telegram", help="Telegram channels").add_subparsers(
        dest="telegram_command", required=True
    )
    set_webhook = telegram.add_parser(
        "set-webhook", help="point a bot at URL with a generated secret token", parents=[common]
    )
    set_webhook.add_argument("channel", help="the Telegram channel's name in the config")
    set_webhook.add_argument("url", help="public https URL of /webhooks/telegram/CHANNEL")
    set_webhook.add_argument("--drop-pending-updates", action="store_true")
    set_webhook.set_defaults(handler=cmd_telegram_set_webhook)

    demo = commands.add_parser(
        "demo", help="seed demo data and print a login and a token", parents=[common]
    )
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(handler=cmd_demo)

    add_campaign_parsers(commands, common, cmd_campaigns)
    cli_reports.add_commands(commands, common, cmd_reports_rebuild)
    cli_backup.add_commands(commands, common, cmd_backup)
    cli_customers.add_commands(commands, common, cmd_customers)
    cli_secrets.add_commands(commands, common, cmd_secrets)
    return parser


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):
        parser.print_help()  # what --help prints, and its status
        return 0
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except (CliError, StaffError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

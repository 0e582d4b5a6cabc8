"""``relaydesk customers export ID FILE`` and ``relaydesk customers erase ID --yes``: a
customer's data export (one zip) and erasure from the command line, audited as the system
(area ``privacy``); registered by hub/cli.py. The services are hub/crm/privacy_export.py and
hub/crm/erasure.py."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from hub.config.settings import Settings
from hub.crm.erasure import Erasure, erase_customer, surviving_customer
from hub.crm.privacy_export import CustomerExport, export_customer
from hub.db.models import Customer
from hub.platform.clock import SystemClock

Run = Callable[[Settings, Callable[[Any], Awaitable[Any]]], Coroutine[Any, Any, Any]]


class CustomerCliError(Exception):
    pass


def _customer_id(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**31:
        raise CustomerCliError(f"{raw!r} is not a customer id")
    return int(raw)


async def _customer(session: Any, customer_id: int) -> Customer:
    customer = await surviving_customer(session, customer_id)
    if customer is None:
        raise CustomerCliError(f"no customer with id {customer_id}")
    return customer


def cmd_export(args: argparse.Namespace, settings: Settings, run: Run) -> int:
    customer_id = _customer_id(args.id)
    target = Path(args.file)
    if not target.parent.resolve().is_dir():
        raise CustomerCliError(f"the folder {target.parent.resolve()} does not exist")

    async def work(session: Any) -> CustomerExport:
        customer = await _customer(session, customer_id)
        return await export_customer(session, customer, actor_id=None, now=SystemClock().now())

    done: CustomerExport = asyncio.run(run(settings, work))
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(done.zipped())
    os.replace(partial, target)
    conversations = len(done.data["conversations"])
    print(
        f"customer {done.customer_id} exported to {target}: {conversations} conversations, "
        f"{len(done.files)} files"
    )
    return 0


def cmd_erase(args: argparse.Namespace, settings: Settings, run: Run) -> int:
    customer_id = _customer_id(args.id)
    if not args.yes:
        raise CustomerCliError(
            f"erasing customer {customer_id} cannot be undone; run again with --yes to erase"
        )

    async def work(session: Any) -> Erasure:
        customer = await _customer(session, customer_id)
        return await erase_customer(session, customer, actor_id=None, now=SystemClock().now())

    done: Erasure = asyncio.run(run(settings, work))
    if done.already:
        print(
            f"customer {done.customer_id} was already erased on {done.erased_at.isoformat()}; "
            "nothing changed"
        )
        return 0
    counts = done.counts
    print(
        f"customer {done.customer_id} erased: {counts.get('identities', 0)} identities, "
        f"{counts.get('messages', 0)} messages, {counts.get('attachments', 0)} attachments"
    )
    return 0


def add_commands(
    commands: Any, common: argparse.ArgumentParser, handler: Callable[..., int]
) -> None:
    customers = commands.add_parser("customers", help="a customer's personal data").add_subparsers(
        dest="customers_command", required=True
    )
    export = customers.add_parser(
        "export", help="everything held about a customer, as a zip", parents=[common]
    )
    export.add_argument("id", metavar="ID", help="the customer's id")
    export.add_argument("file", metavar="FILE", help="the zip to write")
    export.set_defaults(handler=handler, customers_run=cmd_export)
    erase = customers.add_parser(
        "erase", help="erase a customer's personal data (cannot be undone)", parents=[common]
    )
    erase.add_argument("id", metavar="ID", help="the customer's id")
    erase.add_argument("--yes", action="store_true", help="yes, erase them")
    erase.set_defaults(handler=handler, customers_run=cmd_erase)

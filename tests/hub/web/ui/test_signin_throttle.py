"""Sign-in lockout keyed to account and client: an attacker guessing Bob's password from one
network locks only that network out of Bob's account; Bob (and everyone else) signs in from
anywhere else. One network trying many accounts is stopped as a whole. The counts are in the
database, so a second hub process and a restart see the same lockout. Every 429 says when to
try again, in seconds (Retry-After) and on the page in words."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlalchemy import select

from hub.db.signin_models import SigninThrottle
from hub.platform.clock import ManualClock
from tests.hub.web.ui.conftest import PASSWORD, OpenBrowser
from tests.hub.web.ui.conftest import sign_in as signing_in
from tests.support.desk import MakeDesk

ATTACKER, OFFICE = "203.0.113.9", "198.51.100.7"
PROXY = {"security.trusted_proxies": ["127.0.0.1", "::1"]}


async def sign_in(
    http: aiohttp.ClientSession, email: str, password: str, client: str | None = None
) -> aiohttp.ClientResponse:
    """A sign-in through the form, as seen behind the reverse proxy from ``client``."""
    return await signing_in(http, email, password, {"X-Forwarded-For": client} if client else None)


async def fail(http: aiohttp.ClientSession, email: str, times: int, client: str) -> int:
    status = 0
    for attempt in range(times):
        status = (await sign_in(http, email, f"guess-number-{attempt}", client)).status
    return status


async def test_a_lockout_from_one_network_leaves_the_agent_free_everywhere_else(
    make_desk: MakeDesk, open_browser: OpenBrowser
) -> None:
    desk = await make_desk(**PROXY)
    await desk.agent("bob@example.com", password=PASSWORD)
    await desk.agent("ann@example.com", password=PASSWORD)
    attacker = open_browser(desk)
    assert await fail(attacker, "bob@example.com", 4, ATTACKER) == 401
    locked = await sign_in(attacker, "bob@example.com", "guess-number-5", ATTACKER)
    assert locked.status == 429
    assert int(locked.headers["Retry-After"]) == 15 * 60
    page = await locked.text()
    assert "try again in 15 minutes" in page and "UTC" in page
    # Even the right password is refused from the attacker's network ...
    right_there = await sign_in(attacker, "bob@example.com", PASSWORD, ATTACKER)
    assert right_there.status == 429 and "rd_session" not in right_there.cookies
    assert 0 < int(right_there.headers["Retry-After"]) <= 15 * 60
    # ... but Bob signs in from the office, and Ann from the attacker's own network.
    bob = await sign_in(open_browser(desk), "bob@example.com", PASSWORD, OFFICE)
    assert bob.status == 303 and "rd_session" in bob.cookies
    ann = await sign_in(open_browser(desk), "ann@example.com", PASSWORD, ATTACKER)
    assert ann.status == 303


async def test_one_network_trying_many_accounts_is_stopped(
    make_desk: MakeDesk, open_browser: OpenBrowser
) -> None:
    desk = await make_desk(**PROXY, **{"security.client_failures": 6})
    await desk.agent("bob@example.com", password=PASSWORD)
    sprayer = open_browser(desk)
    for number in range(5):
        assert await fail(sprayer, f"user{number}@example.com", 1, ATTACKER) == 401
    stopped = await sign_in(sprayer, "user5@example.com", "guess", ATTACKER)
    assert stopped.status == 429 and int(stopped.headers["Retry-After"]) == 15 * 60
    refused = await sign_in(sprayer, "bob@example.com", PASSWORD, ATTACKER)
    assert refused.status == 429
    assert (await sign_in(open_browser(desk), "bob@example.com", PASSWORD, OFFICE)).status == 303


async def test_another_process_and_a_restart_see_the_same_lockout(
    make_desk: MakeDesk, open_browser: OpenBrowser
) -> None:
    first = await make_desk(**PROXY)
    await first.agent("bob@example.com", password=PASSWORD)
    assert await fail(open_browser(first), "bob@example.com", 5, ATTACKER) == 429
    second = await make_desk(**PROXY)  # another hub process on the same database
    refused = await sign_in(open_browser(second), "bob@example.com", PASSWORD, ATTACKER)
    assert refused.status == 429 and "Retry-After" in refused.headers
    assert (await sign_in(open_browser(second), "bob@example.com", PASSWORD, OFFICE)).status == 303


async def test_the_lockout_ends_and_a_success_clears_the_count(
    make_desk: MakeDesk, open_browser: OpenBrowser
) -> None:
    clock = ManualClock(datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    desk = await make_desk(clock, **PROXY)
    await desk.agent("bob@example.com", password=PASSWORD)
    http = open_browser(desk)
    assert await fail(http, "bob@example.com", 5, ATTACKER) == 429
    page = await (await sign_in(http, "bob@example.com", PASSWORD, ATTACKER)).text()
    assert "after 12:15 UTC" in page
    clock.advance(timedelta(minutes=15, seconds=1))
    assert (await sign_in(http, "bob@example.com", PASSWORD, ATTACKER)).status == 303
    # the success cleared Bob's count from there: four more mistakes do not lock him out
    assert await fail(open_browser(desk), "bob@example.com", 4, ATTACKER) == 401
    assert (await sign_in(open_browser(desk), "bob@example.com", PASSWORD, ATTACKER)).status == 303


async def test_forwarded_addresses_count_only_from_a_trusted_proxy(
    make_desk: MakeDesk, open_browser: OpenBrowser
) -> None:
    desk = await make_desk()  # no trusted proxy: X-Forwarded-For is the client's own claim
    await desk.agent("bob@example.com", password=PASSWORD)
    http = open_browser(desk)
    for number in range(5):
        await sign_in(http, "bob@example.com", "wrong-guess", f"192.0.2.{number}")
    assert (await sign_in(http, "bob@example.com", PASSWORD, "192.0.2.200")).status == 429


async def test_two_processes_failing_at_once_lose_no_count(
    make_desk: MakeDesk, open_browser: OpenBrowser
) -> None:
    overrides = {**PROXY, "security.account_client_failures": 100}
    first, second = await make_desk(**overrides), await make_desk(**overrides)
    await first.agent("bob@example.com", password=PASSWORD)
    attempts = [
        sign_in(open_browser(desk), "bob@example.com", f"guess-{n}", ATTACKER)
        for n, desk in enumerate([first, second] * 6)
    ]
    assert {response.status for response in await asyncio.gather(*attempts)} == {401}
    async with first.hub.db.reader() as session:
        counts = dict(
            (await session.execute(select(SigninThrottle.scope, SigninThrottle.failures))).all()
        )
    assert counts == {"pair": 12, "client": 12}

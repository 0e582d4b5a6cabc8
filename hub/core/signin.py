"""Sign-in throttling keyed to account and client, in the database so that every hub process
sees the same counts and a restart forgets nothing.

Failed sign-ins are counted per (account, client) pair and per client. Too many failures of one
account from one client lock that pair only: the same account from anywhere else still signs
in, so nobody can lock an agent out from elsewhere. Too many failures from one client, whatever
the accounts, lock that client (one address spraying many accounts). A successful sign-in
clears its pair. IPv6 clients count per /64, the block one subscriber is usually given."""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.security import SecuritySettings
from hub.db.signin_models import SigninThrottle
from hub.db.upsert import insert_into

PAIR, CLIENT = "pair", "client"
KEEP = timedelta(days=1)  # rows untouched this long (and not locked) are pruned


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    pair_failures: int
    client_failures: int
    window: timedelta
    lockout: timedelta

    @classmethod
    def of(cls, settings: SecuritySettings) -> ThrottlePolicy:
        return cls(
            settings.account_client_failures,
            settings.client_failures,
            timedelta(minutes=settings.failure_window_minutes),
            timedelta(minutes=settings.lockout_minutes),
        )


def client_key(address: str) -> str:
    """The client as throttling counts it: an IPv4 address, an IPv6 /64, or the text as is."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _keys(account: str, client: str) -> tuple[tuple[str, str], tuple[str, str]]:
    who = client_key(client)
    pair = hashlib.sha256(f"{account.strip().lower()}\n{who}".encode()).hexdigest()
    return (PAIR, pair), (CLIENT, hashlib.sha256(who.encode()).hexdigest())


async def locked_for(session: AsyncSession, account: str, client: str, now: datetime) -> int:
    """Seconds until ``account`` may try to sign in from ``client`` again (0: it may now)."""
    until = await session.scalar(
        select(SigninThrottle.locked_until)
        .where(
            tuple_(SigninThrottle.scope, SigninThrottle.key).in_(_keys(account, client)),
            SigninThrottle.locked_until > now,
        )
        .order_by(SigninThrottle.locked_until.desc())
        .limit(1)
    )
    return 0 if until is None else max(1, math.ceil((until - now).total_seconds()))


async def record_failure(
    session: AsyncSession, account: str, client: str, now: datetime, policy: ThrottlePolicy
) -> int:
    """Count one failed sign-in; returns the seconds of the lockout it started (or 0). One
    atomic upsert per counter, so concurrent processes never lose a count."""
    started = 0
    limits = {PAIR: policy.pair_failures, CLIENT: policy.client_failures}
    for scope, key in _keys(account, client):
        fresh = SigninThrottle.window_start <= now - policy.window
        statement = insert_into(session, SigninThrottle).values(
            scope=scope, key=key, failures=1, window_start=now, locked_until=None, updated_at=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=["scope", "key"],
            set_={
                "failures": case((fresh, 1), else_=SigninThrottle.failures + 1),
                "window_start": case((fresh, now), else_=SigninThrottle.window_start),
                "updated_at": now,
            },
        ).returning(SigninThrottle.failures)
        failures = (await session.execute(statement)).scalar_one()
        if failures >= limits[scope]:
            await session.execute(
                update(SigninThrottle)
                .where(SigninThrottle.scope == scope, SigninThrottle.key == key)
                .values(locked_until=now + policy.lockout, failures=0, window_start=now)
            )
            started = math.ceil(policy.lockout.total_seconds())
    await session.execute(
        delete(SigninThrottle).where(
            SigninThrottle.updated_at < now - KEEP,
            or_(SigninThrottle.locked_until.is_(None), SigninThrottle.locked_until < now),
        )
    )
    return started


async def record_success(session: AsyncSession, account: str, client: str) -> None:
    """A correct password clears its own pair (not the client's count: a sprayer who guesses
    one account right keeps counting)."""
    (scope, key), _ = _keys(account, client)
    await session.execute(
        delete(SigninThrottle).where(and_(SigninThrottle.scope == scope, SigninThrottle.key == key))
    )

"""Routing benchmark (not a test): decisions per second with 200 rules and 500 agents, and the
fuzzy intent match time per message.

    .venv/bin/python -m bench.routing [--messages 2000] [--database-url URL]

1. rules only: ``RuleSet.decide`` on messages that mostly fall through most rules;
2. full decision: ``RoutingEngine.route_new`` (rules, team, SLA clock, least-loaded
   assignment with the conditional capacity UPDATE) against a real database, 50 per commit;
3. fuzzy intents: scoring one message against every intent phrase the 200 rules use.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from channels.base import IdentityKind, InboundMessage, Party
from hub.assembly import assemble
from hub.config.settings import load_settings
from hub.db.models import Agent, AgentTeam, Conversation, Customer, Presence, Team
from hub.platform.clock import ManualClock
from hub.platform.database import Database
from hub.routing.engine import RoutingEngine
from hub.routing.rules import Facts, Intents, RuleSet

TEAMS = [f"team{i}" for i in range(10)]
INTENTS = [
    "cancel my order",
    "i want a refund",
    "where is my parcel",
    "reset my password",
    "change my address",
    "speak to a manager",
    "my card was charged twice",
    "close my account",
]
TEXTS = [
    "Hello, I ordered a lamp last week and it still has not arrived. Can you check?",
    "Hi there, please cancle my ordr from yesterday, I found it cheaper elsewhere.",
    "I cannot log in since the update, the page just reloads. My password is correct.",
    "Why was my credit card charged twice for the same invoice? Please fix this.",
    "Do you ship to Norway? And how long does delivery take usually?",
]


def build_rules(count: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    rules: list[dict[str, Any]] = []
    for index in range(count):
        rule: dict[str, Any] = {"name": f"rule {index}", "team": rng.choice(TEAMS)}
        kind = index % 5
        if kind == 0:
            rule["keywords"] = [f"kw{index}", f"product{index}"]
        elif kind == 1:
            rule["regex"] = [rf"(?i)\bref-{index}-\d+\b"]
        elif kind == 2:
            rule["tiers"] = [f"tier{index}"]
        elif kind == 3:
            rule["channels"] = ["mail"]
            rule["keywords"] = [f"sku{index}"]
        else:
            rule["intents"] = [f"{rng.choice(INTENTS)} {index}"]
        rules.append(rule)
    rules[-1] = {"name": "cancel intent", "intents": ["cancel my order"], "team": "team0"}
    return rules


def message(i: int) -> InboundMessage:
    return InboundMessage(
        channel="api",
        external_id=f"bench-{i}",
        sender=Party(IdentityKind.EMAIL, f"c{i}@example.com", f"Customer {i}"),
        text=TEXTS[i % len(TEXTS)],
        received_at=datetime.now(UTC),
    )


def bench_rules(ruleset: RuleSet, messages: int) -> float:
    facts = [Facts("api", "api", f"\n{TEXTS[i % len(TEXTS)]} {i}") for i in range(messages)]
    started = time.perf_counter()
    for item in facts:
        ruleset.decide(item)
    return messages / (time.perf_counter() - started)


def bench_intents(messages: int) -> float:
    phrases = [f"{p} {n}" for p in INTENTS for n in range(5)]
    started = time.perf_counter()
    for i in range(messages):
        scores = Intents(TEXTS[i % len(TEXTS)])
        for phrase in phrases:
            scores.score(phrase)
    return (time.perf_counter() - started) / messages * 1e6


async def bench_engine(url: str, rules: list[dict[str, Any]], messages: int) -> float:
    settings = load_settings(
        Path(__file__).resolve().parent.parent / "config" / "relaydesk.toml",
        environ={},
        overrides={
            "database.url": url,
            "database.auto_migrate": True,
            "routing.rules": rules,
            "routing.assignment.default_strategy": "least_loaded",
        },
    )
    clock = ManualClock()
    async with assemble(settings, clock=clock, start_workers=False) as hub:
        return await _route(hub.db, hub.routing.engine, clock.now(), messages)


async def _route(db: Database, engine: RoutingEngine, now: datetime, messages: int) -> float:
    async with db.writer() as session:
        teams = [Team(slug=slug, name=slug) for slug in [*TEAMS, "support"]]
        session.add_all(teams)
        await session.flush()
        for i in range(500):
            agent = Agent(
                email=f"agent{i}@example.com",
                name=f"Agent {i}",
                capacity=1000,
                presence=Presence.ONLINE,
                skills=[],
                created_at=now,
            )
            session.add(agent)
            await session.flush()
            session.add(AgentTeam(agent_id=agent.id, team_id=teams[i % len(teams)].id))
        pairs = []
        for i in range(messages):
            customer = Customer(name=f"C {i}", tags=[], attributes={}, consent={}, created_at=now)
            session.add(customer)
            await session.flush()
            conversation = Conversation(
                token=secrets.token_hex(8),
                customer_id=customer.id,
                channel="api",
                status="open",
                created_at=now,
                last_activity_at=now,
            )
            session.add(conversation)
            await session.flush()
            pairs.append((customer.id, conversation.id))
        await session.commit()
    started = time.perf_counter()
    for offset in range(0, messages, 50):
        async with db.writer() as session:
            for i, (customer_id, conversation_id) in enumerate(pairs[offset : offset + 50], offset):
                customer = await session.get(Customer, customer_id)
                conversation = await session.get(Conversation, conversation_id)
                assert customer is not None and conversation is not None
                await engine.route_new(session, message(i), customer, conversation, now)
            await session.commit()
    elapsed = time.perf_counter() - started
    return messages / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    rules = build_rules(200)
    ruleset = RuleSet(
        load_settings(environ={}, overrides={"routing.rules": rules}).routing,
        load_settings(environ={}, overrides={"routing.rules": rules}).routing.rules,
    )
    print(f"rules only:      {bench_rules(ruleset, args.messages * 5):10.0f} decisions/s")
    print(f"fuzzy intents:   {bench_intents(args.messages):10.1f} us/message (40 phrases)")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        rate = asyncio.run(bench_engine(url, rules, args.messages))
    print(f"full decisions:  {rate:10.0f} decisions/s (200 rules, 500 agents, {url.split(':')[0]})")


if __name__ == "__main__":
    main()

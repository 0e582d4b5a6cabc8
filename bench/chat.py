"""Benchmark: the chat channels end to end, on 127.0.0.1 only, bounded in size and time.

    .venv/bin/python bench/chat.py [--requests 2000] [--concurrency 32] [--customers 200]
                                   [--chats 40] [--replies 3]

The hub runs in its own process on SQLite with a Telegram channel and a Slack channel whose
Bot API / Web API are the local fake servers from tests/support (run in this process, as is the
load generator). Measured:

* webhook ingest: Telegram updates (secret header) and Slack events (signed for real), each
  committed before its 2xx: messages/s and p50/p99 acknowledgement latency; then a replay of
  some of them (Slack with X-Slack-Retry-Num) that must store nothing new.
* outbound: agent replies through the API to many chats at once, delivered by the outbox through
  python-telegram-bot / slack-sdk: messages/s, and the limits as the fake servers saw them
  (smallest gap between two messages in one chat, most messages in any one second).
* web chat widget: many visitors on WebSockets (/widget/chat/ws) each sending messages one after
  the other, every one acknowledged only after commit: messages/s and p50/p99 ack latency; a
  resend of acknowledged client ids must store nothing new; then agent replies through the API
  and the time until each appears on the visitor's socket (p50/p99).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Python puts this script's folder first on sys.path, where a module of the same name as a
# standard one (bench/email.py) would shadow it: import from the project root instead.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import socket  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402

from bench.loadgen import post_all  # noqa: E402
from tests.support.fake_slack import SIGNING_SECRET, FakeSlack, signed_headers  # noqa: E402
from tests.support.fake_telegram import TOKEN as TELEGRAM_TOKEN  # noqa: E402
from tests.support.fake_telegram import FakeTelegram  # noqa: E402

SECRET = "bench-webhook-secret-0123456789"
Request = tuple[str, bytes, dict[str, str]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings_for(db_path: str, telegram_port: int, slack_port: int) -> Any:
    from hub.config.settings import load_settings

    return load_settings(
        ROOT / "config" / "relaydesk.toml",
        environ={},
        overrides={
            "database.url": f"sqlite+aiosqlite:///{db_path}",
            "database.auto_migrate": False,
            "capture.enabled": False,
            "channels.tg.kind": "telegram",
            "channels.tg.bot_token": TELEGRAM_TOKEN,
            "channels.tg.base_url": f"http://127.0.0.1:{telegram_port}/bot",
            "channels.tg.webhook_secret": SECRET,
            "channels.tg.ack_template": "",
            "channels.sl.kind": "slack",
            "channels.sl.bot_token": FakeSlack.token,
            "channels.sl.signing_secret": SIGNING_SECRET,
            "channels.sl.base_url": f"http://127.0.0.1:{slack_port}/api/",
            "channels.sl.ack_template": "",
            # One load generator on 127.0.0.1 is every visitor: lift the per-IP limits.
            "channels.chat.ip_messages_per_minute": 10**9,
            "channels.chat.ip_connections_per_minute": 10**9,
            "channels.chat.messages_per_minute": 10**9,
        },
    )


def serve_hub(port: int, db_path: str, telegram_port: int, slack_port: int) -> None:
    import logging

    from aiohttp import web

    from hub.app import create_app

    logging.basicConfig(level=logging.ERROR)
    app = create_app(settings_for(db_path, telegram_port, slack_port), long_running=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def seed_agent(db_path: str) -> str:
    from hub.assembly import migrate, session_of
    from hub.core.staff import add_agent, create_token
    from hub.db.models import Presence, Role
    from hub.platform.clock import SystemClock

    settings = settings_for(db_path, 0, 0)  # the database only: no channel is started
    migrate(settings)
    async with session_of(settings) as session:
        now = SystemClock().now()
        agent = await add_agent(
            session,
            email="bench@example.com",
            name="Bench",
            role=Role.SUPERVISOR,
            now=now,
            presence=Presence.ONLINE,
        )
        return await create_token(session, agent, now)


def telegram_requests(base: str, count: int, customers: int, first: int) -> list[Request]:
    url = f"{base}/webhooks/telegram/tg"
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    requests = []
    for n in range(first, first + count):
        user = {
            "id": 5000 + n % customers,
            "is_bot": False,
            "first_name": f"Customer{n % customers}",
        }
        update = {
            "update_id": 900000 + n,
            "message": {
                "message_id": n,
                "from": user,
                "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
                "date": int(time.time()),
                "text": f"Hello, this is message {n}. My order has not arrived yet.",
            },
        }
        requests.append((url, json.dumps(update).encode(), headers))
    return requests


def slack_requests(base: str, count: int, customers: int, first: int) -> list[Request]:
    url = f"{base}/webhooks/slack/sl"
    requests = []
    for n in range(first, first + count):
        customer = n % customers
        event = {
            "type": "message",
            "user": f"W{customer:06d}",
            "text": f"Hello, this is message {n}. My order has not arrived yet.",
            "ts": f"1700001000.{n:06d}",
            "thread_ts": f"1700000000.{customer:06d}",
            "channel": f"D{customer:06d}",  # a DM per customer: Slack paces per channel
            "channel_type": "im",
            "event_ts": f"1700001000.{n:06d}",
        }
        envelope = {
            "token": "x",
            "team_id": "T111",
            "api_app_id": "A111",
            "type": "event_callback",
            "event_id": f"Ev{n:08d}",
            "event_time": 1700001000,
            "event": event,
        }
        body = json.dumps(envelope).encode()
        requests.append((url, body, signed_headers(body)))
    return requests


async def load(requests: list[Request], concurrency: int, extra: dict[str, str]) -> dict[str, Any]:
    posts = ((url, {"data": body, "headers": headers | extra}) for url, body, headers in requests)
    return await post_all(posts, concurrency, expect=200)


def count_inbound(db_path: str, channel: str) -> int:
    with sqlite3.connect(db_path) as connection:
        row = connection.execute(
            "SELECT count(*) FROM messages WHERE direction = 'inbound' AND channel = ?", (channel,)
        ).fetchone()
    return int(row[0])


def conversations(db_path: str, channel: str, limit: int) -> list[int]:
    with sqlite3.connect(db_path) as connection:
        rows = connection.execute(
            "SELECT id FROM conversations WHERE channel = ? ORDER BY id LIMIT ?", (channel, limit)
        ).fetchall()
    return [int(row[0]) for row in rows]


def limits_seen(calls: list[tuple[str, float]]) -> tuple[float, int]:
    """Smallest gap between two sends to one chat, most sends in any one-second window."""
    by_chat: dict[str, list[float]] = defaultdict(list)
    for chat, at in calls:
        by_chat[chat].append(at)
    gaps = [b - a for times in by_chat.values() for a, b in itertools.pairwise(times)]
    moments = sorted(at for _, at in calls)
    busiest, start = 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    return (min(gaps) if gaps else float("nan")), busiest


async def outbound(
    base: str, token: str, ids: list[int], replies: int, sent: Any, timeout: float
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    total = len(ids) * replies
    async with aiohttp.ClientSession() as session:
        began = time.perf_counter()

        async def reply(conversation: int, n: int) -> None:
            async with session.post(
                f"{base}/api/v1/conversations/{conversation}/messages",
                json={"text": f"Reply {n} from the bench"},
                headers=headers,
            ) as response:
                await response.read()
                assert response.status == 201, response.status

        await asyncio.gather(*(reply(c, n) for n in range(replies) for c in ids))
        deadline = time.monotonic() + timeout
        while len(sent()) < total and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - began
    calls = sent()
    gap, busiest = limits_seen(calls)
    return {
        "sent": len(calls),
        "total": total,
        "rate": len(calls) / elapsed,
        "gap": gap,
        "busiest": busiest,
        "elapsed": elapsed,
    }


async def _frame(ws: aiohttp.ClientWebSocketResponse, kind: str, **match: Any) -> dict[str, Any]:
    """The next frame of ``kind``; other frames (echoes of the visitor's own messages) skipped."""
    while True:
        received = await ws.receive(timeout=30)
        if received.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"widget socket ended: {received.type}")
        frame: dict[str, Any] = json.loads(received.data)
        if frame["type"] == "error":
            raise RuntimeError(f"widget error frame: {frame}")
        if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    latencies = sorted(latencies)
    p99 = latencies[max(int(len(latencies) * 0.99) - 1, 0)]
    return statistics.median(latencies) * 1000, p99 * 1000


async def widget(base: str, token: str, db_path: str, visitors: int, total: int) -> None:
    """Visitors on WebSockets: ack latency per message, resend idempotency, reply push time."""
    per_visitor = max(total // visitors, 1)
    latencies: list[float] = []
    conversations: dict[int, int] = {}
    async with aiohttp.ClientSession() as session:
        sockets = []
        for _ in range(visitors):
            ws = await session.ws_connect(f"{base}/widget/chat/ws")
            await ws.send_json({"type": "hello"})
            await _frame(ws, "welcome")
            sockets.append(ws)

        async def chat(v: int, ws: aiohttp.ClientWebSocketResponse, first: int, n: int) -> None:
            for i in range(first, first + n):
                started = time.perf_counter()
                await ws.send_json({"type": "message", "id": f"b{v}-{i}", "text": f"Bench {i}"})
                ack = await _frame(ws, "ack", client_id=f"b{v}-{i}")
                latencies.append(time.perf_counter() - started)
                conversations[v] = ack["conversation_id"]

        await asyncio.gather(*(chat(v, ws, 10**6, 5) for v, ws in enumerate(sockets)))  # warm
        latencies.clear()
        before = count_inbound(db_path, "chat")
        began = time.perf_counter()
        await asyncio.gather(*(chat(v, ws, 0, per_visitor) for v, ws in enumerate(sockets)))
        elapsed = time.perf_counter() - began
        stored = count_inbound(db_path, "chat") - before
        p50, p99 = _percentiles(latencies)
        await asyncio.gather(
            *(chat(v, ws, 0, min(per_visitor, 10)) for v, ws in enumerate(sockets))
        )
        again = count_inbound(db_path, "chat") - before - stored
        sent = len(latencies) - visitors * min(per_visitor, 10)
        print(
            f"web chat widget, {visitors} visitors x {per_visitor} messages over WebSocket:\n"
            f"  widget    {sent / elapsed:7.0f} msg/s  p50 ack {p50:6.1f} ms  p99 ack {p99:6.1f} ms"
            f"  stored {stored}/{sent}  resent {visitors * min(per_visitor, 10)} -> {again} new"
        )

        headers = {"Authorization": f"Bearer {token}"}
        pushes: list[float] = []

        async def push(v: int, ws: aiohttp.ClientWebSocketResponse) -> None:
            text = f"Agent reply to visitor {v}"
            started = time.perf_counter()
            async with session.post(
                f"{base}/api/v1/conversations/{conversations[v]}/messages",
                json={"text": text},
                headers=headers,
            ) as response:
                assert response.status == 201, response.status
            while True:
                frame = await _frame(ws, "message")
                if frame["message"]["text"] == text:
                    break
            pushes.append(time.perf_counter() - started)

        await asyncio.gather(*(push(v, ws) for v, ws in enumerate(sockets)))
        p50, p99 = _percentiles(pushes)
        print(
            f"  agent reply -> visitor window: {len(pushes)} replies, "
            f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"
        )
        for ws in sockets:
            await ws.close()


async def run(args: argparse.Namespace, workdir: Path) -> None:
    db_path = str(workdir / "chat.db")
    token = await seed_agent(db_path)
    telegram, slack = FakeTelegram(port=free_port()), FakeSlack(port=free_port())
    await telegram.start()
    await slack.start()
    port = free_port()
    process = multiprocessing.Process(
        target=serve_hub, args=(port, db_path, telegram.port, slack.port), daemon=True
    )
    process.start()
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(400):
                try:
                    async with session.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        n, c, k = args.requests, args.concurrency, args.customers
        await load(telegram_requests(base, args.warmup, k, 10**6), c, {})
        await load(slack_requests(base, args.warmup, k, 10**6), c, {})
        print(f"webhook ingest, {n} requests each, concurrency {c}, {k} customers:")
        for name, channel, make in (
            ("telegram", "tg", telegram_requests),
            ("slack", "sl", slack_requests),
        ):
            before = count_inbound(db_path, channel)
            result = await load(make(base, n, k, 0), c, {})
            stored = count_inbound(db_path, channel) - before
            replay = make(base, min(n, 500), k, 0)
            retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
            again = await load(replay, c, retry if channel == "sl" else {})
            duplicates = count_inbound(db_path, channel) - before - stored
            print(
                f"  {name:9s} {result['rate']:7.0f} msg/s  p50 {result['p50_ms']:6.1f} ms  "
                f"p99 {result['p99_ms']:6.1f} ms  max {result['max_ms']:6.1f} ms  "
                f"errors {result['errors']}  stored {stored}/{n}  "
                f"replayed {len(replay)} -> {duplicates} new (errors {again['errors']})"
            )
        print(f"outbound, {args.chats} chats x {args.replies} replies, through the outbox:")
        telegram.calls.clear()
        slack.calls.clear()
        for name, channel, fake_sent in (
            ("telegram", "tg", lambda: [(c.chat_id, c.at) for c in telegram.sent()]),
            ("slack", "sl", lambda: [(c.params["channel"], c.at) for c in slack.posted()]),
        ):
            ids = conversations(db_path, channel, args.chats)
            result = await outbound(base, token, ids, args.replies, fake_sent, args.timeout)
            print(
                f"  {name:9s} {result['rate']:7.1f} msg/s  sent {result['sent']}/{result['total']}"
                f" in {result['elapsed']:.1f} s  smallest gap in one chat {result['gap']:.2f} s  "
                f"most in one second {result['busiest']}"
            )
        await widget(base, token, db_path, args.visitors, args.widget_messages)
    finally:
        process.terminate()
        process.join(10)
        await telegram.stop()
        await slack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--chats", type=int, default=40)
    parser.add_argument("--replies", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0, help="outbound wait, seconds")
    parser.add_argument("--visitors", type=int, default=32, help="widget WebSocket visitors")
    parser.add_argument("--widget-messages", type=int, default=2000, help="widget messages")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()

"""A widget visitor over a real WebSocket, as the widget page speaks to the hub."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient

WAIT = 10.0


class Visitor:
    def __init__(self, client: TestClient[Any, Any] | ClientSession, path: str) -> None:
        self.client = client
        self.path = path
        self.ws: ClientWebSocketResponse | None = None
        self.token: str | None = None
        self.visitor_id: str | None = None
        self.frames: list[dict[str, Any]] = []  # every frame received, in order
        self._unread: list[dict[str, Any]] = []
        self.last_id = 0

    async def connect(
        self, *, since: int | None = None, token: str | None = None, **headers: str
    ) -> dict[str, Any]:
        """Open the socket and say hello; returns the welcome frame."""
        self.ws = await self.client.ws_connect(self.path, headers=headers or None)
        hello: dict[str, Any] = {"type": "hello", "since": self.last_id if since is None else since}
        if token or self.token:
            hello["token"] = token or self.token
        await self.send(hello)
        welcome = await self.expect("welcome")
        self.token = welcome["token"]
        self.visitor_id = welcome["visitor_id"]
        return welcome

    async def send(self, frame: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps(frame))

    async def send_raw(self, data: str) -> None:
        assert self.ws is not None
        await self.ws.send_str(data)

    async def _receive(self, timeout: float) -> dict[str, Any]:
        assert self.ws is not None
        received = await self.ws.receive(timeout=timeout)
        if received.type != WSMsgType.TEXT:
            raise ConnectionError(f"socket ended: {received.type} {received.data!r}")
        frame: dict[str, Any] = json.loads(received.data)
        self.frames.append(frame)
        if frame["type"] == "message":
            self.last_id = max(self.last_id, frame["message"]["id"])
        return frame

    async def expect(self, kind: str, timeout: float = WAIT, **match: Any) -> dict[str, Any]:
        """The next frame of ``kind`` (matching ``match``); others are kept for later."""
        for index, frame in enumerate(self._unread):
            if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                return self._unread.pop(index)
        async with asyncio.timeout(timeout):
            while True:
                frame = await self._receive(timeout)
                if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                    return frame
                self._unread.append(frame)

    async def message(self, text: str, client_id: str) -> dict[str, Any]:
        """Send a message; returns its ack."""
        await self.send({"type": "message", "id": client_id, "text": text})
        return await self.expect("ack", client_id=client_id)

    async def agent_text(self, contains: str, timeout: float = WAIT) -> dict[str, Any]:
        """The message frame of an agent reply containing ``contains``."""
        for index, frame in enumerate(self._unread):
            if frame["type"] == "message" and contains in frame["message"]["text"]:
                return self._unread.pop(index)["message"]  # type: ignore[no-any-return]
        async with asyncio.timeout(timeout):
            while True:
                frame = await self._receive(timeout)
                if frame["type"] == "message" and contains in frame["message"]["text"]:
                    return frame["message"]  # type: ignore[no-any-return]
                self._unread.append(frame)

    def texts(self) -> list[str]:
        return [f["message"]["text"] for f in self.frames if f["type"] == "message"]

    def message_ids(self) -> list[int]:
        return [f["message"]["id"] for f in self.frames if f["type"] == "message"]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
        self._unread.clear()

"""A local Telegram Bot API server for tests. It speaks the real wire format
(https://core.telegram.org/bots/api#making-requests): ``POST /bot<token>/<method>`` with
url-encoded, multipart or JSON parameters, answered ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code", "description", "parameters"?}``. It records every call, serves
queued updates to getUpdates (forgetting those below ``offset``, as Telegram does), answers
getFile for the files it hosts and serves them at ``/file/bot<token>/<file_path>``
(https://core.telegram.org/bots/api#getfile), and can be told to fail the next calls with 429
(``retry_after``), 500, 403 or 400."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web

from tests.support.fake_provider import DOWNLOAD, Call, FakeProvider

TOKEN = "123456:TEST-token_for-the-fake-api"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Relaydesk", "username": "relaydesk_bot"}
DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    403: "Forbidden: bot was blocked by the user",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
}
SEND_METHODS = ("sendMessage", "sendPhoto", "sendDocument")


@dataclass
class TelegramFile:
    file_id: str
    file_path: str
    size: int  # what getFile reports (may differ from the bytes, to play a large file)


@dataclass
class FakeTelegram(FakeProvider):
    kind: ClassVar[str] = "telegram"
    failing: ClassVar[tuple[str, ...]] = SEND_METHODS
    token: str = TOKEN
    updates: list[dict[str, Any]] = field(default_factory=list)
    issued: list[int] = field(default_factory=list)  # message ids of what was sent, in order
    # What customers see: every message the fake accepted (never a refused call), in order.
    shown: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, TelegramFile] = field(default_factory=dict)  # by file_id
    # Awaited when getUpdates arrives, with the offset asked for (before answering it).
    on_get_updates: Callable[[int | None], Awaitable[None]] | None = None
    # Awaited when a send arrives, before answering it (a slow Telegram, a call cut by a kill).
    on_send: Callable[[Call], Awaitable[None]] | None = None
    # Telegram numbers messages per chat for both sides, so a sent id never equals one the
    # customer sent; far above any id in the test payloads keeps that true here.
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1_500_000_000))

    @property
    def base_url(self) -> str:
        return self.url("/bot")

    @property
    def base_file_url(self) -> str:
        return self.url("/file/bot")

    def channel_config(self) -> dict[str, Any]:
        return super().channel_config() | {"base_file_url": self.base_file_url}

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)

    def add_file(
        self, file_id: str, content: bytes, *, extension: str = "jpg", size: int | None = None
    ) -> TelegramFile:
        """Host a file a customer sent; ``size`` overrides what getFile reports."""
        path = f"photos/file_{len(self.files)}.{extension}"
        self.host(f"/file/bot{self.token}/{path}", content, "application/octet-stream")
        self.files[file_id] = TelegramFile(file_id, path, len(content) if size is None else size)
        return self.files[file_id]

    async def queue_update(self, update: dict[str, Any]) -> None:
        async with self._changed:
            self.updates.append(update)
            self._changed.notify_all()

    def sent(self, method: str = "sendMessage") -> list[Call]:
        return self.called(method)

    async def _params(self, request: web.Request) -> tuple[dict[str, str], dict[str, Any]]:
        params: dict[str, str] = {}
        files: dict[str, Any] = {}
        if request.content_type == "application/json":
            body = await request.json()
            params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        elif request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.filename:
                    files[part.name] = (part.filename, await part.read())
                else:
                    params[str(part.name)] = await part.text()
        else:
            params = {k: str(v) for k, v in (await request.post()).items()}
        params.update({k: v for k, v in request.query.items() if k not in params})
        return params, files

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await self._params(request)
        call = Call(method, params, files)
        if method == "getUpdates":
            return await self._get_updates(params)
        await self.record(call)
        if self.on_send is not None and method in SEND_METHODS:
            await self.on_send(call)
        failure = self.take_failure(call)
        if failure is not None:
            text = DESCRIPTIONS.get(failure.status, "Error").format(retry_after=failure.retry_after)
            extra = {"retry_after": failure.retry_after} if failure.retry_after else None
            return _error(failure.status, text, extra)
        if method == "getFile":
            return self._get_file(params)
        handler = RESULTS.get(method)
        if handler is None:
            return _error(404, "Not Found")
        return web.json_response({"ok": True, "result": handler(self, call)})

    def _get_file(self, params: dict[str, str]) -> web.Response:
        known = self.files.get(params.get("file_id", ""))
        if known is None:
            return _error(400, "Bad Request: invalid file_id")
        if known.size > 20 * 1024 * 1024:  # the Bot API serves files up to 20 MB
            return _error(400, "Bad Request: file is too big")
        result = {
            "file_id": known.file_id,
            "file_unique_id": f"u-{known.file_id}",
            "file_size": known.size,
            "file_path": known.file_path,
        }
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        return await self.serve_hosted(request, Call(DOWNLOAD, {"path": request.path}))

    async def _get_updates(self, params: dict[str, str]) -> web.Response:
        offset = int(params["offset"]) if params.get("offset") else None
        if self.on_get_updates is not None:
            await self.on_get_updates(offset)
        self.calls.append(Call("getUpdates", params))
        timeout = min(float(params.get("timeout") or 0), 2.0)
        async with self._changed:
            if offset is not None:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            if not self.updates and timeout:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self.updates)), timeout
                    )
            result = list(self.updates[:100])
        return web.json_response({"ok": True, "result": result})

    def _message(self, call: Call, **content: Any) -> dict[str, Any]:
        chat_id = int(call.chat_id)
        self.issued.append(next(self._ids))
        chat_type = "private" if chat_id > 0 else "supergroup"
        message = {
            "message_id": self.issued[-1],
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": chat_type},
            "date": int(time.time()),
            **content,
        }
        self.shown.append(message)
        return message


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _file_id(call: Call, field_name: str) -> str:
    return f"file-{field_name}-{len(call.files.get(field_name, ('', b''))[1])}"


RESULTS: dict[str, Callable[[FakeTelegram, Call], Any]] = {
    "getMe": lambda fake, call: BOT_USER,
    "setWebhook": lambda fake, call: True,
    "deleteWebhook": lambda fake, call: True,
    "answerCallbackQuery": lambda fake, call: True,
    "editMessageReplyMarkup": lambda fake, call: True,
    "sendMessage": lambda fake, call: fake._message(call, text=call.params.get("text", "")),
    "sendPhoto": lambda fake, call: fake._message(
        call,
        photo=[
            {
                "file_id": _file_id(call, "photo"),
                "file_unique_id": "u-photo",
                "width": 1,
                "height": 1,
            }
        ],
    ),
    "sendDocument": lambda fake, call: fake._message(
        call,
        document={
            "file_id": _file_id(call, "document"),
            "file_unique_id": "u-document",
            "file_name": call.files.get("document", ("document", b""))[0],
        },
    ),
}

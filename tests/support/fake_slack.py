"""A local Slack Web API server for tests, and real request signing for Events API deliveries.

The server speaks the Web API wire format (https://api.slack.com/web): ``POST /api/<method>``
with a bearer token and a JSON or url-encoded body, answered ``{"ok": true, ...}`` or
``{"ok": false, "error": "..."}``; rate limits are HTTP 429 with ``Retry-After``. It records
every call and can be told to fail the next ones (429, 500, or an ``ok: false`` error).

Files: ``add_file`` hosts a file a customer shared (``files.info`` describes it, its
``url_private_download`` serves it to a request with the bot token, as Bearer, and redirects
anyone else to a sign-in page, as Slack does); uploads follow the v2 flow:
``files.getUploadURLExternal`` -> POST the bytes to the ``upload_url`` ->
``files.completeUploadExternal`` with ``channel_id`` and ``thread_ts``."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web

from tests.support.fake_provider import DOWNLOAD, Call, Failure, FakeProvider

TOKEN = "xoxb-111-222-fake-bot-token"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_USER_ID = "UBOT111"
TEAM_ID = "T111"
UPLOAD = "upload"  # the method name recorded for step 2 of an upload


def signed_headers(
    body: bytes, secret: str = SIGNING_SECRET, *, timestamp: int | None = None
) -> dict[str, str]:
    """The headers Slack sends with an Events API request: v0 HMAC-SHA256 of
    ``v0:<timestamp>:<body>`` (https://api.slack.com/authentication/verifying-requests-from-slack)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


@dataclass
class Upload:
    file_id: str
    filename: str
    length: int
    content: bytes | None = None
    shared: dict[str, Any] | None = None  # the files.completeUploadExternal parameters


@dataclass
class FakeSlack(FakeProvider):
    kind: ClassVar[str] = "slack"
    failing: ClassVar[tuple[str, ...]] = ("chat.postMessage",)
    token: str = TOKEN
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # files.info, by id
    uploads: dict[str, Upload] = field(default_factory=dict)  # by file id
    # False: the app lacks the files:read scope, and downloads get the sign-in page.
    files_scope: bool = True
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def base_url(self) -> str:
        return self.url("/api/")

    def channel_config(self) -> dict[str, Any]:
        return super().channel_config() | {
            "signing_secret": SIGNING_SECRET,
            "bot_user_id": BOT_USER_ID,
        }

    def add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/api/{method}", self._handle)  # GET: arguments in the query
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._download)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        app.router.add_get("/signin", self._signin)

    def posted(self) -> list[Call]:
        return self.called("chat.postMessage")

    async def wait_for_posts(self, count: int, timeout: float = 10.0) -> list[Call]:
        return await self.wait_for("chat.postMessage", count, timeout)

    def add_file(
        self, name: str, content: bytes, mimetype: str, *, size: int | None = None
    ) -> dict[str, Any]:
        """Host a file a customer shared; returns its file object for an event's ``files``.
        ``size`` overrides the size Slack reports."""
        file_id = f"F{next(self._ids):08d}"
        path = f"/files-pri/{TEAM_ID}-{file_id}/download/{name}"
        self.host(path, content, mimetype)
        self.files[file_id] = {
            "id": file_id,
            "created": int(time.time()),
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": name.rpartition(".")[2] or "binary",
            "user": "U061F7AUR",
            "size": len(content) if size is None else size,
            "mode": "hosted",
            "is_external": False,
            "url_private": self.url(f"/files-pri/{TEAM_ID}-{file_id}/{name}"),
            "url_private_download": self.url(path),
        }
        return dict(self.files[file_id])

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.method != "POST":
            pass
        elif request.content_type == "application/json":
            params.update(await request.json())
        else:
            params.update(await request.post())
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        call = Call(method, params, token=token)
        await self.record(call)
        if token != self.token:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        failure = self.take_failure(call)
        if failure is not None:
            return _failure(failure)
        answer = METHODS.get(method)
        if answer is None:
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        return web.json_response(answer(self, params))

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = {"type": "message", "text": params.get("text", ""), "user": BOT_USER_ID, "ts": ts}
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        return {"ok": True, "channel": params["channel"], "ts": ts, "message": message}

    def _files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        known = self.files.get(str(params.get("file", "")))
        if known is None:
            return {"ok": False, "error": "file_not_found"}
        return {"ok": True, "file": known, "comments": [], "response_metadata": {"next_cursor": ""}}

    def _get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename, length = str(params.get("filename") or ""), str(params.get("length") or "")
        if not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ids):08d}"
        self.uploads[file_id] = Upload(file_id, filename, int(length))
        return {"ok": True, "upload_url": self.url(f"/upload/v1/{file_id}"), "file_id": file_id}

    def _complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            listed = json.loads(params.get("files") or "[]")
        except json.JSONDecodeError:
            return {"ok": False, "error": "invalid_arguments"}
        done = []
        for item in listed:
            upload = self.uploads.get(str(item.get("id")))
            if upload is None or upload.content is None:
                return {"ok": False, "error": "file_not_found"}
            upload.shared = dict(params)
            done.append({"id": upload.file_id, "title": item.get("title") or upload.filename})
        return {"ok": True, "files": done}

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        body = await request.read()
        call = Call(UPLOAD, {"file_id": file_id}, body=body)
        await self.record(call)
        failure = self.take_failure(call)
        if failure is not None:
            return web.Response(status=failure.status, text="Internal Server Error")
        upload = self.uploads.get(file_id)
        if upload is None:
            return web.Response(status=404, text="Not Found")
        upload.content = body
        return web.Response(text=f"OK - {len(body)}")

    async def _download(self, request: web.Request) -> web.StreamResponse:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        call = Call(DOWNLOAD, {"path": request.path}, token=token)
        if token != self.token or not self.files_scope:
            await self.record(call)
            raise web.HTTPFound(self.url("/signin"))
        return await self.serve_hosted(request, call)

    async def _signin(self, request: web.Request) -> web.Response:
        return web.Response(
            text="<html><body>Sign in to Slack</body></html>", content_type="text/html"
        )


def _failure(failure: Failure) -> web.Response:
    if failure.status == 429:
        headers = {"Retry-After": str(failure.retry_after or 1)}
        return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
    if failure.status >= 500:
        return web.Response(status=failure.status, text="Internal Server Error")
    return web.json_response({"ok": False, "error": failure.error or "unknown_error"})


METHODS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": lambda fake, params: {
        "ok": True,
        "url": "https://fake.slack.com/",
        "team": "Fake",
        "user": "relaydesk",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": "BBOT111",
    },
    "chat.postMessage": FakeSlack._post_message,
    "files.info": FakeSlack._files_info,
    "files.getUploadURLExternal": FakeSlack._get_upload_url,
    "files.completeUploadExternal": FakeSlack._complete_upload,
}

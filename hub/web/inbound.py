"""Provider-facing endpoints: translate the HTTP request at the edge, ingest, answer only after
the commit."""

from __future__ import annotations

from aiohttp import web

from channels.api.adapter import ApiChannel
from channels.base import ChannelRejected, InboundRequest
from hub.core.errors import ApiError, no_message, unavailable, unknown_channel, wrong_channel_kind
from hub.inbound.ingest import IngestUnavailable
from hub.inbound.results import IngestResult
from hub.web.keys import Hub, hub_of


def result_json(result: IngestResult) -> dict[str, object]:
    return {
        "message_id": result.message_id,
        "conversation_id": result.conversation_id,
        "customer_id": result.customer_id,
        "duplicate": result.duplicate,
    }


async def ingest_request(hub: Hub, channel_name: str, request: InboundRequest) -> IngestResult:
    """Parse with the channel's adapter and ingest; the first message's result is returned."""
    channel = hub.channels[channel_name]
    try:
        messages = channel.parse(request)
    except ChannelRejected as exc:
        raise ApiError(exc.status, exc.code, exc.message, exc.fields) from None
    if not messages:
        raise no_message()
    try:
        results = [await hub.ingestor.submit(message) for message in messages]
    except IngestUnavailable:
        raise unavailable() from None
    return results[0]


async def api_inbound(request: web.Request) -> web.Response:
    hub = hub_of(request)
    name = request.match_info["channel"]
    config = hub.settings.channels.get(name)
    if config is None:
        raise unknown_channel(name)
    if config.kind != "api":
        raise wrong_channel_kind(name, "api")
    channel = hub.channels[name]
    if isinstance(channel, ApiChannel):
        # Before the body is read: a wrong token gets 401 whatever (and however large) the body.
        try:
            channel.authorize(request.headers)
        except ChannelRejected as exc:
            raise ApiError(exc.status, exc.code, exc.message, exc.fields) from None
    body = await request.read()
    result = await ingest_request(
        hub, name, InboundRequest(body=body, headers=request.headers, remote=request.remote)
    )
    return web.json_response(result_json(result), status=200 if result.duplicate else 201)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/api/v1/inbound/{channel}", api_inbound)

"""Provider-facing endpoints: translate the HTTP request at the edge, ingest, answer only after
the commit."""

from __future__ import annotations

from channels.api.adapter import ApiChannel
from channels.base import ChannelRejected, InboundRequest
from hub.assembly import Hub
from hub.core.errors import ApiError, no_message, unavailable, unknown_channel, wrong_channel_kind
from hub.inbound import results
from hub.inbound.ingest import IngestUnavailable
from hub.web.api.edge import Call, Doc, Endpoint, Reply, endpoint
from hub.web.api.models.inbound import ChannelName, InboundMessage, IngestResult


async def ingest_request(
    hub: Hub, channel_name: str, request: InboundRequest
) -> results.IngestResult:
    """Parse with the channel's adapter and ingest; the first message's result is returned."""
    channel = hub.channels[channel_name]
    try:
        messages = channel.parse(request)
    except ChannelRejected as exc:
        raise ApiError(exc.status, exc.code, exc.message, exc.fields) from None
    if not messages:
        raise no_message()
    try:
        done = [await hub.ingestor.submit(message) for message in messages]
    except IngestUnavailable:
        raise unavailable() from None
    return done[0]


@endpoint(
    "POST",
    "/api/v1/inbound/{channel}",
    Doc(
        "API channel",
        "Post a customer message through an API channel",
        "postInboundMessage",
        description="Stored once per (channel, external_id): a repeat answers 200 with the "
        "first message's ids and duplicate=true. The answer is sent only after the message is "
        "committed. Agent replies on the conversation are POSTed as JSON to the channel's "
        "callback_url, signed with X-Relaydesk-Signature: sha256=HMAC-SHA256(signing_secret, "
        "X-Relaydesk-Timestamp + '.' + body), and retried by the outbox.",
        auth="channel",
        ok={
            201: "Stored as a new message",
            200: "Already stored: the original ids, duplicate=true",
        },
        errors=(400, 401, 404, 413, 422, 503),
        reads=("application/json", InboundMessage),
    ),
)
async def api_inbound(call: Call, path: ChannelName) -> Reply[IngestResult]:
    hub, request, name = call.hub, call.request, path.channel
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
    return Reply(IngestResult.model_validate(result), 200 if result.duplicate else 201)


ENDPOINTS: tuple[Endpoint, ...] = (api_inbound,)

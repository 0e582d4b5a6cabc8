"""The typed API edge: the route table and the models agree, the bearer token is checked before
the body is read, and a refused field is answered in the one error shape with its own text."""

from __future__ import annotations

import pytest

from hub.web.api.edge import Call, Doc, endpoint
from hub.web.api.models.conversations import ConversationId
from hub.web.api.routes import ENDPOINTS
from tests.conftest import auth
from tests.support.agent_api import start_conversation
from tests.support.desk import Desk


def test_every_path_parameter_is_a_field_of_its_path_model() -> None:
    for one in ENDPOINTS:
        model = one.inputs.get("path")
        fields = set(model.model_fields) if model is not None else set()
        assert {part[1:-1] for part in one.path.split("/") if part.startswith("{")} == fields


def test_a_route_whose_model_misses_a_path_parameter_is_refused() -> None:
    async def handler(call: Call, path: ConversationId) -> None:
        return None

    with pytest.raises(TypeError, match="path parameters"):
        endpoint("GET", "/api/v1/things/{id}/{position}", Doc("T", "t"))(handler)


async def test_the_token_is_checked_before_the_body_is_read(desk: Desk) -> None:
    started = await start_conversation(desk.client, desk.hub, "e-1", "joe@example.com", "Hello")
    path = f"/api/v1/conversations/{started['conversation_id']}"
    for headers in ({}, auth("rdk_not-a-token")):
        response = await desk.client.patch(path, data=b"{not json", headers=headers)
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "unauthorized"


async def test_a_refused_field_names_itself_with_its_own_text(desk: Desk) -> None:
    _, sue = await desk.agent("sue@example.com", teams=("support",))
    started = await start_conversation(desk.client, desk.hub, "e-2", "joe@example.com", "Hello")
    path = f"/api/v1/conversations/{started['conversation_id']}/messages"
    response = await desk.client.post(path, json={"text": "x" * 70_000}, headers=auth(sue))
    assert response.status == 422
    assert await response.json() == {
        "error": {
            "code": "invalid_field",
            "message": "text: is longer than 65536 characters",
            "fields": {"text": "is longer than 65536 characters"},
        }
    }
    listing = await desk.client.get("/api/v1/conversations?limit=x", headers=auth(sue))
    assert listing.status == 400
    assert (await listing.json())["error"]["fields"] == {
        "limit": "must be a whole number from 1 to 100"
    }

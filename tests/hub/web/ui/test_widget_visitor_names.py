"""A chat visitor who has not said who they are is shown by where they wrote from ("Visitor from
<page title or address>"), never by the hash that identifies their browser; once they leave their
name and email, the inbox, the conversation and the customer directory show that instead."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp

from hub.db.models import Role
from tests.channels.web.widget_client import Visitor
from tests.hub.web.ui.conftest import PASSWORD, sign_in
from tests.support.desk import Desk

WS = "/widget/chat/ws"


async def pages(http: aiohttp.ClientSession, conversation_id: int) -> dict[str, str]:
    return {
        "inbox": await (await http.get("/ui/inbox?view=all")).text(),
        "conversation": await (await http.get(f"/ui/conversations/{conversation_id}")).text(),
        "directory": await (await http.get("/ui/customers")).text(),
    }


async def test_a_visitor_is_named_by_the_page_then_by_what_they_tell(
    desk: Desk, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    await desk.agent("sam@example.com", role=Role.SUPERVISOR, password=PASSWORD)
    http = browser_session()
    await sign_in(http, "sam@example.com", PASSWORD)

    visitor = Visitor(desk.client, WS)
    visitor.ws = await desk.client.ws_connect(WS)
    await visitor.send(
        {
            "type": "hello",
            "since": 0,
            "page": "https://shop.example.com/pricing?plan=pro",
            "title": "Pricing | Example Shop",
        }
    )
    welcome = await visitor.expect("welcome")
    hash_id = welcome["visitor_id"]
    ack = await visitor.message("Do you have a student discount?", "c-1")

    for where, html in (await pages(http, ack["conversation_id"])).items():
        assert "Visitor from Pricing | Example Shop" in html, where
        assert hash_id not in html, where

    # Another visitor on a page without a title: the page's address names them.
    other = Visitor(desk.client, WS)
    other.ws = await desk.client.ws_connect(WS)
    await other.send({"type": "hello", "since": 0, "page": "https://shop.example.com/cart"})
    await other.expect("welcome")
    await other.message("Is shipping free?", "c-1")
    assert "Visitor from shop.example.com/cart" in (await pages(http, 0))["inbox"]

    await visitor.send({"type": "email", "email": "lena@example.com", "name": "Lena Park"})
    await visitor.expect("email_saved")
    for where, html in (await pages(http, ack["conversation_id"])).items():
        assert "Lena Park" in html, where
        assert "Visitor from Pricing" not in html, where
        assert hash_id not in html, where
    await visitor.close()
    await other.close()

"""The hello frame may say which page the visitor is on (for the "Visitor from …" label): an
http(s) address and a one-line title are kept, anything else is left out or refused by name."""

from __future__ import annotations

import json

import pytest

from channels.web.widget import FrameError, Hello, WidgetChannel, WidgetChannelConfig
from hub.widget.texts import is_visitor_label, visitor_label

CHAT = WidgetChannel("chat", WidgetChannelConfig(kind="widget"))


def hello(**fields: object) -> Hello:
    frame = CHAT.parse_frame(json.dumps({"type": "hello", "since": 0, **fields}))
    assert isinstance(frame, Hello)
    return frame


def test_the_page_and_its_title_are_kept() -> None:
    frame = hello(page="https://shop.example.com/pricing?plan=pro", title="Pricing\n| Shop")
    assert (frame.page, frame.title) == (
        "https://shop.example.com/pricing?plan=pro",
        "Pricing | Shop",
    )
    assert visitor_label(frame.page, frame.title) == "Visitor from Pricing | Shop"
    assert visitor_label(frame.page, "") == "Visitor from shop.example.com/pricing"
    assert hello().page == "" and visitor_label("", "") == "Chat visitor"


@pytest.mark.parametrize("page", ["javascript:alert(1)", "file:///etc/passwd", "not a url"])
def test_an_address_that_is_not_a_web_page_is_left_out(page: str) -> None:
    assert hello(page=page).page == ""


def test_a_page_that_is_not_a_string_is_refused_by_name() -> None:
    with pytest.raises(FrameError) as refused:
        hello(page=["https://shop.example.com"])
    assert refused.value.code == "invalid_field" and "page" in refused.value.message


def test_labels_are_recognised_and_names_are_not() -> None:
    assert is_visitor_label(visitor_label("https://a.example/x", ""))
    assert is_visitor_label("Chat visitor")
    assert not is_visitor_label("Lena Park")
    assert len(visitor_label("", "x" * 500)) <= len("Visitor from ") + 80

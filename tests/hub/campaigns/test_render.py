"""What a campaign's text looks like on each channel: the Markdown subset mapped to Slack
mrkdwn, Telegram HTML, plain text and email HTML, and personalisation with defaults."""

from __future__ import annotations

import pytest

from hub.campaigns import render

TEXT = "Hi **Ann** & <friends>, see _our_ [sale](https://shop.example.com/s?a=1&b=2)\nBye"


def test_the_markdown_subset_on_each_channel() -> None:
    assert render.slack_mrkdwn(TEXT) == (
        "Hi *Ann* &amp; &lt;friends&gt;, see _our_ <https://shop.example.com/s?a=1&b=2|sale>\nBye"
    )
    assert render.telegram_html(TEXT) == (
        "Hi <b>Ann</b> &amp; &lt;friends&gt;, see <i>our</i> "
        '<a href="https://shop.example.com/s?a=1&amp;b=2">sale</a>\nBye'
    )
    assert render.plain(TEXT) == (
        "Hi Ann & <friends>, see our sale (https://shop.example.com/s?a=1&b=2)\nBye"
    )
    assert render.markdown_html("One **two**\nthree\n\nFour") == (
        "<p>One <strong>two</strong><br>\nthree</p>\n<p>Four</p>"
    )
    assert render.plain("2 * 3 * 4 and snake_case_name") == "2 * 3 * 4 and snake_case_name"


def test_missing_customer_fields_take_their_defaults() -> None:
    template = "Hi {{ customer.first_name | default('there') }} of {{ customer.company }}!"
    nameless = render.customer_context(name="", company="")
    assert render.render_template(template, {"customer": nameless}) == "Hi there of !"
    ann = render.customer_context(name="Ann Lee", company="Acme", attributes={"plan": "pro"})
    assert render.render_template(template, {"customer": ann}) == "Hi Ann of Acme!"
    plan = "{{ customer.attributes.plan | default('free') }}"
    assert render.render_template(plan, {"customer": ann}) == "pro"
    assert render.render_template(plan, {"customer": nameless}) == "free"


def test_html_parts_escape_what_customers_typed() -> None:
    evil = render.customer_context(name="<script>alert(1)</script>")
    html = render.render_template("<p>{{ customer.name }}</p>", {"customer": evil}, html_part=True)
    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


@pytest.mark.parametrize(
    ("source", "line", "problem"),
    [
        ("ok\n{% if %}", 2, "Expected an expression"),
        ("{{ customer.name }}\n\n{{ secret_key }}", 3, "unknown name 'secret_key'"),
        ("{{ customer.__class__.__mro__ }}", None, None),
    ],
)
def test_template_problems_name_their_line(
    source: str, line: int | None, problem: str | None
) -> None:
    if problem is None:  # the sandbox refuses at render time, reported as a render error
        with pytest.raises(render.RenderError):
            render.render_template(source, {"customer": render.customer_context()})
        return
    with pytest.raises(render.RenderError) as caught:
        render.check_template(source)
    assert caught.value.line == line and problem in str(caught.value)

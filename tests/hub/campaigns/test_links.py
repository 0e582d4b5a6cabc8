"""An unsubscribe link works for its recipient only, and not once forged or expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.campaigns.links import email_headers, read_token, recipient_token

SECRET = "s3cret-s3cret-s3cret"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_a_token_names_its_recipient_and_nothing_else() -> None:
    token = recipient_token(SECRET, 42, NOW)
    link = read_token(SECRET, token, NOW + timedelta(days=30), valid_days=400)
    assert link is not None and link.recipient_id == 42
    _recipient, day, signature = token.split(".")
    assert read_token(SECRET, f"43.{day}.{signature}", NOW, 400) is None  # another recipient
    assert read_token("another-secret-value", token, NOW, 400) is None
    assert read_token(SECRET, token + "x", NOW, 400) is None
    assert read_token(SECRET, "٤٢." + day + "." + signature, NOW, 400) is None  # not ASCII
    assert read_token(SECRET, token, NOW + timedelta(days=402), valid_days=400) is None


def test_mail_carries_one_click_unsubscribe_headers() -> None:
    token = recipient_token(SECRET, 7, NOW)
    headers = email_headers("https://desk.example.com/", "unsubscribe@example.com", token)
    assert headers["List-Unsubscribe"] == (
        f"<https://desk.example.com/u/{token}>, "
        f"<mailto:unsubscribe@example.com?subject=unsubscribe%20{token}>"
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

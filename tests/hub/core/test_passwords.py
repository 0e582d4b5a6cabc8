"""The password policy every password passes, wherever it is set: at least 12 characters, not
the account's email or name, not a common password (also dressed up with digits, symbols or
look-alike characters); the refusal names the rule."""

from __future__ import annotations

import pytest

from hub.core.passwords import password_problem

EMAIL, NAME = "kim.lee@example.com", "Kim Lee"


@pytest.mark.parametrize(
    "password",
    [
        "correct-horse-battery",
        "fresh river stone",
        "my kettle is blue",
        "Tj8#qLw2!vZ9",
        "first-password-1",
    ],
)
def test_good_passwords_pass(password: str) -> None:
    assert password_problem(password, email=EMAIL, name=NAME) is None


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short", "at least 12 characters"),
        ("elevenchars", "at least 12 characters"),
        ("x" * 1025, "at most 1024 characters"),
        ("kim.lee@example.com", "not be your email address or name"),
        ("KimLee2024!!", "not be your email address or name"),
        ("kim.lee.1234", "not be your email address or name"),
        ("password1234", "too common"),
        ("P@ssw0rd2024!", "too common"),
        ("Qwertyuiop12", "too common"),
        ("123456789012", "too common"),
        ("aaaaaaaaaaaaaaa", "too common"),
        ("abababababab", "too common"),
        ("welcome-welcome", "too common"),
    ],
)
def test_weak_passwords_are_refused_naming_the_rule(password: str, rule: str) -> None:
    problem = password_problem(password, email=EMAIL, name=NAME)
    assert problem is not None and rule in problem

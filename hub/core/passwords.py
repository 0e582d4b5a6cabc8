"""The password policy, one rule set for every place a password is set (the CLI, an admin's
reset, an agent's own change): at least 12 characters (a passphrase of a few words is the easy
way there), not the agent's email address or name, and not a common password."""

from __future__ import annotations

import re

from hub.core.common_passwords import PASSWORDS, WORDS

MIN_LENGTH = 12
MAX_LENGTH = 1024  # sign-in reads at most this much
RULE = f"at least {MIN_LENGTH} characters, not your email or name, and not a common password"
_LOOK_ALIKES = str.maketrans("013457@$!|", "oieastasil")
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SEPARATORS = re.compile(r"[\W_]+")


def _plain(text: str) -> str:
    """Lowercase letters and digits only, look-alike digits read as letters."""
    return _SEPARATORS.sub("", text.lower().translate(_LOOK_ALIKES))


def _common(password: str) -> bool:
    lowered = password.lower()
    if lowered in PASSWORDS or _SEPARATORS.sub("", lowered) in PASSWORDS:
        return True
    core = _EDGES.sub("", lowered)
    if _plain(core) in WORDS or _plain(lowered) in WORDS:
        return True
    # "passwordpassword", "qwerty2024qwerty": nothing but one common word, repeated
    words = [word for word in re.split(r"[\W\d_]+", lowered.translate(_LOOK_ALIKES)) if word]
    if words and all(word in WORDS for word in words) and len(set(words)) == 1:
        return True
    return len(set(lowered)) < 5  # "aaaaaaaaaaaa", "abababababab", "121212121212"


def _personal(password: str, email: str, name: str) -> bool:
    plain = _plain(password)
    core = _plain(_EDGES.sub("", password.lower()))  # without the digits and symbols around it
    local = email.split("@", 1)[0]
    names = [_plain(local), _plain(email), _plain(name)]
    names += [_plain(part) for part in re.split(r"[\s._+\-]+", f"{local} {name}") if part]
    for candidate in names:
        if len(candidate) < 3:
            continue
        # the password is that name, or that name with a few characters added
        if candidate in (plain, core) or (candidate in plain and len(plain) - len(candidate) <= 4):
            return True
    return False


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why ``password`` may not be used, naming the rule, or None when it may."""
    if len(password) < MIN_LENGTH:
        return f"password must be at least {MIN_LENGTH} characters (a few words work well)"
    if len(password) > MAX_LENGTH:
        return f"password must be at most {MAX_LENGTH} characters"
    if _personal(password, email, name):
        return "password must not be your email address or name"
    if _common(password):
        return "password is too common or predictable; choose one that is not on password lists"
    return None

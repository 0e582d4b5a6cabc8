"""Defensive MIME helpers: text in any (or a wrong, or no) charset, headers that may be broken,
and the walk that tells the body apart from attachments in nested multiparts."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from email import policy
from email.header import decode_header, make_header
from email.headerregistry import HeaderRegistry
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from types import MappingProxyType
from typing import Any

_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-sjis": "shift_jis",
    "x-gbk": "gb18030",
    "unicode-1-1-utf-7": "utf-7",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "x-mac-roman": "mac_roman",
    "windows-874": "cp874",
    "ansi_x3.4-1968": "ascii",
}
_MODERN = policy.default
# Headers the modern policy parses by their own grammar (addresses, dates, MIME parameters);
# a subject is unstructured text like any header it does not know.
_REGISTRY: HeaderRegistry = _MODERN.header_factory  # type: ignore[assignment]
_STRUCTURED = frozenset(_REGISTRY.registry) - {"subject"}
# The modern policy's header classes, built once (its registry builds one at every lookup).
_CLASSES: Mapping[str, Any] = MappingProxyType(
    {name: _REGISTRY[name] for name in _STRUCTURED | {"subject"}}
)
_UNSTRUCTURED: Any = _REGISTRY["x-unstructured"]
_LINESEP = re.compile(r"\n|\r")  # as email.policy removes line breaks before parsing
_SINGLE_BYTE_DEFAULTS = {"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252"}


def clean_text(value: str) -> str:
    """Text safe to store anywhere: undecodable bytes repaired, NUL characters removed."""
    if not value.isascii() and any("\udc80" <= ch <= "\udcff" for ch in value):
        data = value.encode("utf-8", "surrogateescape")
        value = decode_bytes(data, None)
    return value.replace("\x00", "")


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset when it fits; else UTF-8, else Windows-1252."""
    declared = _codec(charset)
    if declared is not None and (charset or "").lower() in _SINGLE_BYTE_DEFAULTS:
        # Mail declared as Latin-1/ASCII is often really UTF-8; prefer that when it decodes.
        try:
            text = data.decode("utf-8")
            if any(ord(ch) > 127 for ch in text):
                return text.replace("\x00", "")
        except UnicodeDecodeError:
            pass
    for candidate in (declared, "utf-8", "cp1252"):
        if candidate is None:
            continue
        try:
            return data.decode(candidate).replace("\x00", "")
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode("latin-1").replace("\x00", "")


def part_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def part_text(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(part_bytes(part), charset)


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
_ADDR_SPEC = rf"{_DOT_ATOM}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
_MAILBOX = rf"(?:{_ATEXT}(?: {_ATEXT})* <{_ADDR_SPEC}>|{_ADDR_SPEC})"
_TOKEN = r"[A-Za-z0-9.+_-]+"  # MIME tokens without the RFC 2231 markers ('*', "'", '%')
# Well-formed common values the modern policy's header classes give back unchanged (checked
# against them in tests/channels/email/test_parse_stable.py): their parse is skipped.
_VERBATIM: Mapping[str, re.Pattern[str]] = MappingProxyType(
    {
        "message-id": re.compile(rf"<{_ADDR_SPEC}>"),
        "mime-version": re.compile(r"1\.0"),
        "content-transfer-encoding": re.compile(r"[A-Za-z0-9-]+"),
        **dict.fromkeys(
            ("from", "to", "cc", "reply-to", "sender"),
            re.compile(rf"{_MAILBOX}(?:, {_MAILBOX})*"),
        ),
    }
)
_CONTENT_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:; ?{_TOKEN}=(?:{_TOKEN}|\"[^\"\\\\]*\"))*")
_PARAMETER = re.compile(rf"; ?({_TOKEN})=(?:({_TOKEN})|\"([^\"\\\\]*)\")")


def _content_type(value: str) -> str | None:
    """A well-formed Content-Type as the modern policy renders it (every parameter value
    quoted, an empty one as its name alone); None for any other (the parser decides)."""
    if not _CONTENT_TYPE.fullmatch(value):
        return None
    kind, _, rest = value.partition(";")
    rendered = [kind]
    names = set()
    for name, token, quoted in _PARAMETER.findall(";" + rest if rest else ""):
        if name in names:
            return None
        names.add(name)
        text = token or quoted
        rendered.append(f'{name}="{text}"' if text else name)
    return "; ".join(rendered)


def _date(value: str) -> str:
    """The Date header as the modern policy renders it: normalized when it parses."""
    try:
        return format_datetime(parsedate_to_datetime(value))
    except ValueError:
        return value


def modern_text(name: str, value: object) -> str:
    """``str()`` of the header object ``policy.default`` makes of a raw header value (as
    ``Message.raw_items`` gives it, whatever policy parsed the mail): encoded words decoded,
    addresses and dates in their normal form, line breaks removed. Plain ASCII text in a header
    without a structure of its own reads the same with the line breaks removed, so it skips
    the (costly) header parser."""
    if not isinstance(value, str):
        return str(value)
    key = name.lower()
    unfolded = "".join(_LINESEP.split(value))
    if value.isascii() and "=?" not in value:
        if key not in _STRUCTURED:
            return unfolded
        verbatim = _VERBATIM.get(key)
        if verbatim is not None and verbatim.fullmatch(unfolded):
            return unfolded
        if key == "date":
            return _date(unfolded)
        if key == "content-type":
            rendered = _content_type(unfolded)
            if rendered is not None:
                return rendered
    # policy.default.header_fetch_parse(name, value), with the header class looked up once
    # (the registry builds a new class at every lookup).
    return str(_CLASSES.get(key, _UNSTRUCTURED)(name, unfolded))


def modern_get(mail: Message, name: str) -> str | None:
    """``str(mail.get(name))`` as if ``mail`` had been parsed with ``policy.default``."""
    wanted = name.lower()
    for key, value in mail.raw_items():
        if key.lower() == wanted:
            return modern_text(name, value)
    return None


def header(mail: Message, name: str) -> str:
    """A header's decoded value ("" when absent); RFC 2047 words in unknown charsets survive.
    Read as the modern policy reads it, whatever policy parsed ``mail``."""
    wanted = name.lower()
    for key, value in mail.raw_items():
        if key.lower() == wanted:
            return _decoded(name, value)
    return ""


def _decoded(name: str, value: object) -> str:
    try:
        text = modern_text(name, value)
    except Exception:
        text = ""
    return finish_header(text)


class Headers:
    """A mail's headers, each decoded (as ``header`` does) at most once: the first value of
    each name, as ``Message.get`` returns it."""

    def __init__(self, mail: Message) -> None:
        self._names: list[str] = []
        self._raw: dict[str, object] = {}
        for key, value in mail.raw_items():
            self._names.append(key)
            self._raw.setdefault(key.lower(), value)
        self._decoded: dict[str, str] = {}

    def get(self, name: str) -> str:
        wanted = name.lower()
        found = self._decoded.get(wanted)
        if found is None:
            value = self._raw.get(wanted)
            found = "" if value is None else _decoded(name, value)
            self._decoded[wanted] = found
        return found

    def listing(self, limit: int) -> tuple[tuple[str, str], ...]:
        """Every (name, first value of that name) pair in order, without repeats."""
        pairs = [(clean_text(str(key)), self.get(key)) for key in self._names]
        return tuple(dict.fromkeys(pairs))[:limit]


def finish_header(text: str) -> str:
    """A header's text as stored: encoded words left over decoded, whitespace collapsed."""
    if "=?" in text:
        try:
            text = str(make_header(decode_header(text)))
        except Exception:
            text = _decode_words_leniently(text)
    return clean_text(" ".join(text.split()))


def _decode_words_leniently(text: str) -> str:
    try:
        pieces = decode_header(text)
    except Exception:
        return text
    out = []
    for chunk, charset in pieces:
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return "".join(out)


def filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name is None:
        try:
            name = part.get_param("name")  # type: ignore[assignment]
        except Exception:
            name = None
        if isinstance(name, tuple):
            name = decode_bytes(str(name[2]).encode("latin-1", "replace"), name[0])
    if not name:
        return None
    name = str(name)
    if "=?" in name:
        name = _decode_words_leniently(name)
    return clean_text(name).replace("/", "_").replace("\\", "_").strip() or None


def content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def leaves(part: Message, parent: str = "") -> Iterator[tuple[Message, str]]:
    """Every leaf part with the type of its parent multipart; attached messages are leaves."""
    kind = content_type(part)
    if kind.startswith("message/"):
        yield part, parent
        return
    payload = part.get_payload() if part.is_multipart() else None
    if isinstance(payload, list):
        for child in payload:
            if isinstance(child, Message):
                yield from leaves(child, kind)
        return
    yield part, parent

"""List the files inside an Outlook ``winmail.dat`` (TNEF) attachment.

Only the attachment-level attributes are read: the title (file name) and the data length of
each embedded file. Anything malformed ends the listing; it never raises."""

from __future__ import annotations

import struct
from dataclasses import dataclass

SIGNATURE = 0x223E9F78
LEVEL_ATTACHMENT = 0x02
ATT_ATTACH_DATA = 0x800F
ATT_ATTACH_TITLE = 0x8010
ATT_ATTACH_RENDDATA = 0x9002


@dataclass(frozen=True, slots=True)
class TnefFile:
    filename: str
    size: int


def is_tnef(filename: str, content_type: str) -> bool:
    return content_type.lower() in (
        "application/ms-tnef",
        "application/vnd.ms-tnef",
    ) or filename.lower() in ("winmail.dat", "win.dat")


def list_tnef(data: bytes) -> list[TnefFile]:
    if len(data) < 6 or struct.unpack_from("<I", data, 0)[0] != SIGNATURE:
        return []
    offset = 6
    files: list[dict[str, object]] = []
    while offset + 9 <= len(data):
        level = data[offset]
        attribute, length = struct.unpack_from("<II", data, offset + 1)
        start = offset + 9
        end = start + length
        if end + 2 > len(data):
            break
        payload = data[start:end]
        offset = end + 2  # two-byte checksum
        if level != LEVEL_ATTACHMENT:
            continue
        kind = attribute & 0xFFFF
        if kind == ATT_ATTACH_RENDDATA:
            files.append({"filename": "", "size": 0})
        elif kind == ATT_ATTACH_TITLE and files:
            files[-1]["filename"] = payload.split(b"\0", 1)[0].decode("cp1252", errors="replace")
        elif kind == ATT_ATTACH_DATA and files:
            files[-1]["size"] = len(payload)
    return [
        TnefFile(str(item["filename"]) or f"attachment-{number}", int(str(item["size"])))
        for number, item in enumerate(files, start=1)
    ]


def build_tnef(files: list[tuple[str, bytes]]) -> bytes:
    """A minimal TNEF stream holding ``files`` (used to generate test fixtures)."""

    def attribute(level: int, ident: int, payload: bytes) -> bytes:
        checksum = sum(payload) & 0xFFFF
        return (
            struct.pack("<BII", level, ident, len(payload)) + payload + struct.pack("<H", checksum)
        )

    out = struct.pack("<IH", SIGNATURE, 0x0001)
    out += attribute(0x01, 0x00089006, struct.pack("<I", 0x00010000))  # attTnefVersion
    for name, content in files:
        out += attribute(LEVEL_ATTACHMENT, 0x00069002, b"\0" * 14)  # attAttachRendData
        out += attribute(LEVEL_ATTACHMENT, 0x00018010, name.encode("cp1252") + b"\0")
        out += attribute(LEVEL_ATTACHMENT, 0x0006800F, content)
    return out

"""Files a customer sent through a chat provider, fetched on the hub's request: what an
adapter's ``fetch_file(file_ref, max_bytes)`` returns or raises."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True, slots=True)
class FetchedFile:
    content: bytes
    content_type: str | None = None


class FetchFailed(Exception):
    """The file could not be fetched now (``permanent``: nor ever, e.g. it was deleted)."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class FetchTooLarge(FetchFailed):
    """The provider reports (or sent) more bytes than the cap; nothing was downloaded."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes, over the {limit} byte cap", permanent=True)
        self.size = size
        self.limit = limit


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, refusing to read past ``limit`` bytes whatever Content-Length said."""
    declared = response.content_length
    if declared is not None and declared > limit:
        raise FetchTooLarge(declared, limit)
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        total += len(chunk)
        if total > limit:
            raise FetchTooLarge(total, limit)
        chunks.append(chunk)
    return b"".join(chunks)

"""Filling the public web form the way a browser does: GET, read the hidden token, POST."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_token(client: TestClient[Any, Any], form: str = "contact") -> str:
    response = await client.get(f"/forms/{form}")
    assert response.status == 200
    match = TOKEN.search(await response.text())
    assert match is not None
    return match.group(1)


async def submit(
    client: TestClient[Any, Any], fields: dict[str, str], form: str = "contact"
) -> tuple[int, str]:
    token = await csrf_token(client, form)
    response = await client.post(f"/forms/{form}", data={"csrf_token": token, **fields})
    return response.status, await response.text()

"""axe-core in Chromium on every admin page: an admin setting the hub up from the browser meets
no serious or critical accessibility problem, on a desktop and on a 390 px phone."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser

from hub.db.models import Role
from tests.browser.axe import assert_accessible
from tests.browser.conftest import signed_in_page
from tests.support.desk import Desk

LIMIT_SECONDS = 240
PAGES = (
    "/ui/admin",
    "/ui/admin/agents",
    "/ui/admin/teams",
    "/ui/admin/channels",
    "/ui/admin/routing",
    "/ui/admin/bots",
    "/ui/admin/sla",
    "/ui/admin/templates",
    "/ui/admin/settings",
    "/ui/admin/audit",
    "/ui/admin/webhooks",
    "/ui/search?q=printer",
    "/ui/account",
    "/ui/notices",
)


async def test_every_admin_page_passes_axe(desk: Desk, browser: Browser) -> None:
    async with asyncio.timeout(LIMIT_SECONDS):
        page = await signed_in_page(desk, browser, "ada@example.com", role=Role.ADMIN, teams=())
        for width in (1280, 390):
            await page.set_viewport_size({"width": width, "height": 900})
            for path in PAGES:
                response = await page.goto(path)
                assert response is not None and response.status == 200, path
                await assert_accessible(page, f"{path} at {width}px")

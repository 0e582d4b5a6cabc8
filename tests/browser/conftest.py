"""Real Chromium (Debian's package, never a downloaded build) driven by Playwright against the
hub desk on 127.0.0.1. A missing Chromium fails the tests with the command that installs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from hub.db.models import Presence, Role
from hub.web.ui.viewer import home_of
from tests.support.desk import Desk

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PASSWORD = "correct-horse-battery"
STEP_MS = 10_000


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}; install Debian's package with "
            "`apt-get update && apt-get install -y chromium` (scripts/test does this)"
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, timeout=30_000
        )
        yield launched
        await launched.close()


async def signed_in_page(
    desk: Desk,
    browser: Browser,
    email: str,
    *,
    role: Role = Role.AGENT,
    teams: tuple[str, ...] = ("support",),
) -> Page:
    """A new browser context signed in through the login form as a new agent, on the home
    page of their role (the inbox; a marketer's campaigns)."""
    await desk.agent(email, role=role, teams=teams, presence=Presence.OFFLINE, password=PASSWORD)
    context = await browser.new_context(
        base_url=str(desk.client.make_url("/")).rstrip("/"),
        viewport={"width": 1440, "height": 900},
    )
    page = await context.new_page()
    page.set_default_timeout(STEP_MS)
    await page.goto("/ui/login")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**{home_of(role)}")
    return page


def artifact(name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS / name)

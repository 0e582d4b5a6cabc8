"""axe-core (vendored under tests/browser/vendor/axe-core, see its README) run in the page a
test has open: ``await assert_accessible(page, "inbox")`` fails listing every serious or critical
violation with the elements it found. Any page test can call it (admin pages included)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

_RUN = """async (options) => {
  const result = await window.axe.run(document, options);
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


@cache
def _source() -> str:
    return AXE.read_text(encoding="utf-8")


async def violations(page: Page, *, impacts: tuple[str, ...] = BLOCKING) -> list[dict[str, Any]]:
    """The page's axe violations of these impacts. The script is evaluated by the browser's
    debugger, so the page's Content-Security-Policy (no inline scripts) stays as it is."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(_source())
    found: list[dict[str, Any]] = await page.evaluate(
        _RUN, {"resultTypes": ["violations"], "runOnly": ["wcag2a", "wcag2aa", "best-practice"]}
    )
    return [v for v in found if v["impact"] in impacts]


async def assert_accessible(page: Page, what: str) -> None:
    found = await violations(page)
    report = "\n".join(
        f"  {v['impact']} {v['id']}: {v['help']}\n" + "\n".join(f"    {n}" for n in v["nodes"])
        for v in found
    )
    assert not found, f"axe found serious or critical problems on the {what} page:\n{report}"

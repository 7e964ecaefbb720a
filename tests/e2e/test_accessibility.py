"""axe-core finds nothing on any page a person sees (issue 13, item 9): home, join, lobby, a
member's room and a facilitator's room (also with a help alert open and a private reply being
written), on a desktop (1280x800) and a phone (390x844).

axe-core comes from npm (package.json, installed by scripts/test) and is evaluated in the page
through the DevTools protocol, which the pages' CSP does not govern: the pages themselves stay
free of any test script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import People, join_through_screens, room_url
from tests.server.conftest import StartServer

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}

RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ")),
  }));
}"""


async def violations(page: Page) -> list[dict[str, Any]]:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: scripts/test installs it (npm install)")
    if not await page.evaluate("() => typeof axe !== 'undefined'"):
        await page.evaluate(AXE.read_text() + "\n;0")
    found: list[dict[str, Any]] = await page.evaluate(RUN)
    return found


@pytest.mark.parametrize("size", SIZES)
async def test_no_violations_on_any_page(start_server: StartServer, people: People, size: str) -> None:
    width, height = SIZES[size]
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=True)
    seen: dict[str, list[dict[str, Any]]] = {}

    home = await people.open(server.base_url + "/", width=width, height=height)
    seen["home"] = await violations(home)

    fac = await people.open(room_url(server.base_url, room.id, room.facilitator), width=width, height=height)
    seen["join"] = await violations(fac)
    await join_through_screens(fac, "Fran")
    await expect(fac.locator("#screen-room")).to_be_visible()
    seen["facilitator room"] = await violations(fac)

    ann = await people.open(room_url(server.base_url, room.id, room.member), width=width, height=height)
    await join_through_screens(ann, "Ann")
    await expect(ann.locator("#screen-lobby")).to_be_visible()
    seen["lobby"] = await violations(ann)
    toggle = fac.locator("#console-toggle")
    if await toggle.is_visible() and await toggle.get_attribute("aria-expanded") == "false":
        await toggle.click()  # a phone: the console is a panel
    await expect(fac.locator("#lobby-list li", has_text="Ann")).to_be_visible()
    seen["facilitator room, someone waiting"] = await violations(fac)
    await (
        fac.locator("#lobby-list li", has_text="Ann")
        .get_by_role("button", name="Admit Ann", exact=True)
        .click()
    )
    await expect(ann.locator("#screen-room")).to_be_visible()
    seen["member room"] = await violations(ann)
    seen["facilitator room, two people"] = await violations(fac)

    await ann.locator("#help-button").click()
    await ann.locator("#help-message").fill("I need to talk to someone")
    await ann.locator("#help-send").click()
    await expect(ann.locator("#help-status")).to_contain_text("A facilitator has been alerted")
    seen["member room, help asked"] = await violations(ann)
    alert = fac.locator("#help-alerts .help-alert", has_text="Ann")
    await expect(alert).to_be_visible()
    await alert.get_by_role("button", name="Reply privately to Ann").click()
    await expect(fac.locator("#chat-audience")).to_be_visible()
    seen["facilitator room, a help alert, replying privately"] = await violations(fac)

    found = {page: v for page, v in seen.items() if v}
    assert not found, found

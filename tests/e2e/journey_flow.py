"""What the journey's browser tests share: the PEG items' words, the journey page's address,
letting someone in from the lobby, filling the check-in card, opening a panel section, and
check-in cards of past sessions put in the store as it keeps them."""

from __future__ import annotations

import time
from typing import Any

from playwright.async_api import Page, expect

from rooms.backends.journey_base import Record
from rooms.journey.model import CHECKIN, CardKind, CheckIn, checkin_id, encode
from tests.server.conftest import Client, Running

PEG = (
    "Pain on average this week",
    "How much pain got in the way of enjoying life",
    "How much pain got in the way of your general activity",
)


def journey_url(server: Running, room: str, token: str, query: str = "") -> str:
    return f"{server.base_url}/r/{room}/journey{query}#k={token}"


async def admit(fac: Client, name: str) -> None:
    """The facilitator (a socket) lets ``name`` in from the lobby."""

    def waiting(m: dict[str, Any]) -> bool:
        return any(w["name"] == name for w in m.get("waiting", []))

    frame = await fac.recv_until("lobby_changed", waiting)
    target = next(w["id"] for w in frame["waiting"] if w["name"] == name)
    await fac.ok({"type": "admit", "target": target})


async def fill_card(scope: Any, answers: tuple[int, int, int]) -> None:
    for legend, value in zip(PEG, answers, strict=True):
        await scope.get_by_role("group", name=legend).get_by_label(str(value), exact=True).check()


async def open_section(page: Page, section: str) -> None:
    details = page.locator(f"#{section}")
    if await details.get_attribute("open") is None:
        await details.locator("> summary").click()
    await expect(details).to_have_attribute("open", "")


async def put_cards(server: Running, room: str, sub: str, sessions: dict[int, tuple[int, int]]) -> None:
    """Check-in and check-out cards of past sessions, as the store keeps them."""
    for session, (start, end) in sessions.items():
        for kind, value in ((CardKind.IN, start), (CardKind.OUT, end)):
            card = CheckIn(session=session, kind=kind, pain=value, enjoyment=value, activity=value)
            record = Record(
                kind=CHECKIN,
                id=checkin_id(session, kind, sub),
                owner=sub,
                created=time.time(),
                data=encode(card),
            )
            await server.node.journey.put(room, record)

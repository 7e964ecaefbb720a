"""The between-sessions page /r/{id}/journey in the browser (issue 14): the trend chart, the
toolkit, My data (download, delete), leaving the group, the printable handout (pinned first,
hidden never), a shared link asked for a personal one, and axe on the new panel and page at
desktop and phone sizes (with no sideways scrolling on the phone)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import People, join_through_screens, room_url, wait_in_room
from tests.e2e.journey_flow import admit, journey_url, open_section, put_cards
from tests.e2e.test_accessibility import SIZES, violations
from tests.server.conftest import StartServer
from tests.server.journey_helpers import Api, add_member


async def test_the_journey_page_shows_my_trend_and_my_data_and_deletes_it(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group")
    async with server.http() as http:
        fac_api = Api(http, room.id, room.facilitator)
        sub, ann_token = await add_member(fac_api, "Ann")
        ann_api = Api(http, room.id, ann_token)
        await put_cards(server, room.id, sub, {1: (7, 6), 2: (6, 5), 3: (5, 3)})
        await ann_api.ok(
            "POST", "/plans", {"what": "Pace the housework", "confidence": 7, "shared": False}, status=201
        )
        post = await fac_api.ok(
            "POST",
            "/board",
            {"text": "Sit to chop vegetables", "tags": ["pacing"], "anonymous": False},
            status=201,
        )
        await ann_api.ok("PUT", f"/board/{post['id']}/saved")

        page = await people.open(journey_url(server, room.id, ann_token))
        assert "#k=" not in page.url and "k=" not in page.url  # the token left the address bar
        chart = page.locator("#trend svg.trend-chart")
        await expect(chart).to_be_visible()
        await expect(chart.locator("circle.trend-in")).to_have_count(3)
        await expect(chart.locator("rect.trend-out")).to_have_count(3)
        await expect(chart.locator("polyline")).to_have_count(2)
        rows = page.locator("#trend table tbody tr")
        await expect(rows).to_have_count(3)
        await expect(rows.nth(2)).to_contain_text("Session 3")
        await expect(rows.nth(2)).to_contain_text("5.0")
        await expect(rows.nth(2)).to_contain_text("3.0")
        await expect(
            page.locator("#page-plans .plan:not(.review)", has_text="Pace the housework")
        ).to_be_visible()

        summary = page.locator("#my-data-summary")
        await expect(summary).to_contain_text("1 action plan, 6 check-in cards")
        await page.locator("#my-data summary").click()
        await expect(page.locator("#my-data-json")).to_contain_text('"Pace the housework"')
        await expect(page.locator("#toolkit-list .post")).to_have_text(
            ["Sit to chop vegetablesFacilitator · pacing"]
        )
        async with page.expect_download() as download_info:
            await page.get_by_role("button", name="Download my data").click()
        download = await download_info.value
        exported = json.loads(Path(await download.path()).read_text())
        assert [p["what"] for p in exported["plans"]] == ["Pace the housework"]
        assert len(exported["checkins"]) == 6

        await page.get_by_role("button", name="Delete my data").click()
        dialog = page.locator("#delete-data-dialog")
        await expect(dialog).to_be_visible()
        await dialog.get_by_role("button", name="Delete my data").click()
        await expect(page.locator("#my-data-status")).to_contain_text("Your data is deleted")
        await expect(summary).to_contain_text("0 action plans, 0 check-in cards, 0 posts")
        await expect(page.locator("#trend")).to_contain_text("Your trend shows here once")
        assert (await ann_api.ok("GET", "/checkins/mine"))["cards"] == []
        assert (await ann_api.ok("GET", "/plans"))["plans"] == []


async def test_the_handout_lists_pinned_posts_first_and_never_hidden_ones(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group")
    async with server.http() as http:
        fac_api = Api(http, room.id, room.facilitator)
        _, ann_token = await add_member(fac_api, "Ann")
        ann_api = Api(http, room.id, ann_token)
        ids = {}
        for text in ("Heat pack on the lower back", "Three slow breaths", "Something to hide"):
            ids[text] = (
                await ann_api.ok("POST", "/board", {"text": text, "tags": [], "anonymous": False}, status=201)
            )["id"]
        await fac_api.ok("PATCH", f"/board/{ids['Heat pack on the lower back']}", {"pinned": True})
        await fac_api.ok("PATCH", f"/board/{ids['Something to hide']}", {"hidden": True})

        page = await people.open(journey_url(server, room.id, room.facilitator, "?view=handout"))
        await expect(page.locator("h1")).to_have_text("Tuesday pain group: coping strategies")
        posts = page.locator(".board-list .post")
        await expect(posts).to_have_count(2)
        await expect(posts.nth(0)).to_contain_text("Heat pack on the lower back")
        await expect(posts.nth(0)).to_contain_text("Pinned")
        await expect(posts.nth(1)).to_contain_text("Three slow breaths")
        assert await page.locator("button, form").count() == 0
        assert "view=handout" in page.url and "k=" not in page.url


async def test_a_shared_link_is_asked_for_a_personal_link(start_server: StartServer, people: People) -> None:
    server = await start_server()
    room = await server.create_room(title="Drop-in group")
    page = await people.open(journey_url(server, room.id, room.member))
    await expect(page.locator("#journey-personal")).to_have_text(
        "Ask your facilitator for a personal link to keep your goals and check-ins."
    )
    await expect(page.locator("#my-data")).to_be_hidden()
    await expect(page.locator("#page-board")).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
async def test_no_violations_on_the_journey_panel_and_page(
    start_server: StartServer, people: People, size: str
) -> None:
    width, height = SIZES[size]
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group", lobby=True)
    seen: dict[str, list[dict[str, Any]]] = {}
    async with server.http() as http:
        fac_api = Api(http, room.id, room.facilitator)
        sub, ann_token = await add_member(fac_api, "Ann")
        await put_cards(server, room.id, sub, {1: (7, 6), 2: (6, 5)})
        await Api(http, room.id, ann_token).ok(
            "POST", "/board", {"text": "Pacing", "tags": ["pacing"], "anonymous": True}, status=201
        )
        fran = await server.joined(room.facilitator, "Fran")
        ann = await people.open(room_url(server.base_url, room.id, ann_token), width=width, height=height)
        await join_through_screens(ann, "Ann")
        await expect(ann.locator("#lobby-checkin")).to_be_visible()
        seen["lobby with the check-in card"] = await violations(ann)
        await admit(fran, "Ann")
        await wait_in_room(ann)
        for section in ("journey-checkin", "journey-plans", "journey-board", "journey-summary"):
            await open_section(ann, section)
        await ann.locator("#journey-plan-confidence").fill("4")
        await expect(ann.locator("#journey-plan-smaller")).to_be_visible()
        await expect(ann.locator("#journey-board .post", has_text="Pacing")).to_be_visible()
        seen["room, Our group open"] = await violations(ann)
        page = await people.open(journey_url(server, room.id, ann_token), width=width, height=height)
        await expect(page.locator("#trend svg")).to_be_visible()
        seen["journey page"] = await violations(page)
        handout = await people.open(
            journey_url(server, room.id, ann_token, "?view=handout"), width=width, height=height
        )
        await expect(handout.locator(".board-list .post")).to_have_count(1)
        seen["handout"] = await violations(handout)
        if size == "phone":
            for name, shown in (("journey page", page), ("room", ann)):
                scroll = await shown.evaluate("() => document.documentElement.scrollWidth")
                assert scroll <= width, f"the {name} is {scroll} px wide on a {width} px phone"
    found = {name: v for name, v in seen.items() if v}
    assert not found, found


async def test_leaving_the_group_deletes_everything_and_the_link_keeps_nothing(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group")
    async with server.http() as http:
        fac_api = Api(http, room.id, room.facilitator)
        _, ann_token = await add_member(fac_api, "Ann")
        ann_api = Api(http, room.id, ann_token)
        await ann_api.ok("POST", "/plans", {"what": "Rest before I am tired", "confidence": 9}, status=201)
        page = await people.open(journey_url(server, room.id, ann_token))
        await expect(page.locator("#my-data-summary")).to_contain_text("1 action plan")
        await page.get_by_role("button", name="Leave the group").click()
        dialog = page.locator("#leave-group-dialog")
        await expect(dialog).to_be_visible()
        await dialog.get_by_role("button", name="Cancel").click()
        await expect(dialog).to_be_hidden()
        assert len((await ann_api.ok("GET", "/plans"))["plans"]) == 1  # Cancel changed nothing
        await page.get_by_role("button", name="Leave the group").click()
        await dialog.get_by_role("button", name="Leave the group").click()
        await expect(page.locator("#my-data-status")).to_contain_text("You have left the group")
        await expect(page.locator("#page-plans")).to_be_hidden()
        # The group no longer knows her: her link keeps nothing, like a shared link.
        await ann_api.refused("GET", "/me", None, 403, "personal_link_required")
        assert (await fac_api.ok("GET", "/members"))["members"] == []

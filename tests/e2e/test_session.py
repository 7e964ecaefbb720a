"""A whole session in real browsers: lobby, video, chat, mutes, the floor, reconnect, the end."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.e2e.conftest import (
    People,
    StartProxy,
    frames_rising,
    join_through_screens,
    room_url,
    stats,
    wait_in_room,
)
from tests.polling import eventually
from tests.server.conftest import Room, Running, StartServer


async def facilitated_room(
    server: Running, people: People, names: tuple[str, ...], base_url: str | None = None, **fields: object
) -> tuple[Room, Page, dict[str, Page], dict[str, str]]:
    """A room with the lobby on: the facilitator joins, each member joins and is admitted
    through the console. Returns the room, the facilitator's page, pages and ids by name."""
    room = await server.create_room(title="Tuesday group", lobby=True, **fields)
    fac = await people.open(room_url(server.base_url, room.id, room.facilitator))
    await join_through_screens(fac, "Fran")
    ids = {"Fran": await wait_in_room(fac)}
    pages: dict[str, Page] = {}
    for name in names:
        page = await people.open(room_url(base_url or server.base_url, room.id, room.member))
        await join_through_screens(page, name)
        await expect(page.locator("#screen-lobby")).to_be_visible()
        await expect(page.locator("#lobby-status")).to_contain_text("waiting to be let in")
        waiting = fac.locator("#lobby-list li", has_text=name)
        await waiting.locator(".admit").click()
        ids[name] = await wait_in_room(page)
        pages[name] = page
    return room, fac, pages, ids


async def you(page: Page, field: str) -> object:
    return await page.evaluate(f"() => window.hearth.client.state.you[{field!r}]")


async def you_are(page: Page, field: str) -> bool:
    return bool(await you(page, field))


async def mic_on(page: Page) -> None:
    if not await you(page, "audio"):
        await page.locator("#toggle-mic").click()

    await eventually(lambda: you_are(page, "audio"), "the microphone to be on")


async def audio_level(page: Page, pid: str) -> float:
    return float((await stats(page)).get(pid, {}).get("audioLevel") or 0.0)


async def heard(page: Page, pid: str) -> bool:
    return await audio_level(page, pid) > 0.01


async def silent(page: Page, pid: str) -> bool:
    return await audio_level(page, pid) < 0.005


async def playback_muted(page: Page, pid: str) -> bool:
    """Every element that could play ``pid``'s audio on this page is muted (and there is one)."""
    return bool(
        await page.evaluate(
            """(pid) => {
            const els = [...document.querySelectorAll(
                `video[data-participant-id="${pid}"], audio[data-participant-id="${pid}"],`
                + ` [data-participant-id="${pid}"] video`)];
            return els.length > 0 && els.every((el) => el.muted);
        }""",
            pid,
        )
    )


async def test_facilitator_and_two_members_see_each_other(start_server: StartServer, people: People) -> None:
    server = await start_server()
    _room, fac, pages, ids = await facilitated_room(server, people, ("Ann", "Bob"))
    everyone = {"Fran": fac, **pages}
    for name, page in everyone.items():
        others = [pid for who, pid in ids.items() if who != name]
        await expect(page.locator("#tiles .tile")).to_have_count(3)
        await frames_rising(page, others)


async def test_group_chat_reaches_all_and_private_only_facilitators(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    _room, fac, pages, _ids = await facilitated_room(server, people, ("Ann", "Bob"))
    ann, bob = pages["Ann"], pages["Bob"]
    await ann.locator("#chat-input").fill("Hello everyone, glad to be here")
    await ann.locator("#chat-send").click()
    for page in (fac, ann, bob):
        await expect(page.locator("#chat-log .chat-text", has_text="glad to be here")).to_be_visible()
    await ann.locator("#chat-private").check()
    await ann.locator("#chat-input").fill("Only for the facilitator: a hard week")
    await ann.locator("#chat-send").click()
    await expect(fac.locator("#chat-log .chat-text", has_text="a hard week")).to_be_visible()
    await expect(ann.locator("#chat-log .chat-text", has_text="a hard week")).to_be_visible()
    # Bob then gets a later group message, so anything sent before it has arrived too.
    await fac.locator("#chat-input").fill("Welcome, both of you")
    await fac.locator("#chat-send").click()
    await expect(bob.locator("#chat-log .chat-text", has_text="Welcome, both")).to_be_visible()
    await expect(bob.locator("#chat-log .chat-text", has_text="a hard week")).to_have_count(0)
    # The role the server knows is shown apart from the name: on Fran's message, not on Ann's.
    from_fran = bob.locator("#chat-log .chat-message", has_text="Welcome, both")
    await expect(from_fran.locator(".chat-role")).to_have_text("Role: Facilitator")
    from_ann = bob.locator("#chat-log .chat-message", has_text="glad to be here")
    await expect(from_ann.locator(".chat-role")).to_have_count(0)


async def test_facilitator_mute_silences_a_member_even_a_tampered_one(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    _room, fac, pages, ids = await facilitated_room(server, people, ("Ann", "Bob"))
    ann, bob, ann_id = pages["Ann"], pages["Bob"], ids["Ann"]
    await mic_on(ann)
    await eventually(lambda: heard(fac, ann_id), "Ann to be heard by the facilitator")

    await fac.locator(f'#people-list li[data-participant-id="{ann_id}"] .mute').click()
    await eventually(lambda: you_are(ann, "muted_by_facilitator"), "Ann to learn she was muted")
    assert await ann.evaluate("() => window.hearth.mesh.localAudioTrack().enabled") is False
    await ann.locator("#toggle-mic").click()  # she tries to unmute: it stays off, and says why
    await expect(ann.locator("#mic-reason")).to_be_visible()
    assert await you(ann, "audio") is False
    assert await ann.evaluate("() => window.hearth.mesh.localAudioTrack().enabled") is False
    await eventually(lambda: silent(fac, ann_id), "Ann's audio level to fall to about 0")

    # A tampered client switches its track back on from script: the audio arrives again, but
    # every other page keeps it muted.
    await ann.evaluate("() => { window.hearth.mesh.localAudioTrack().enabled = true; }")
    await eventually(lambda: heard(fac, ann_id), "the tampered audio to arrive")
    assert await playback_muted(fac, ann_id)
    assert await playback_muted(bob, ann_id)


async def test_circle_mode_goes_around_and_only_the_holder_is_heard(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    _room, fac, pages, ids = await facilitated_room(server, people, ("Ann", "Bob"))
    ann, bob = pages["Ann"], pages["Bob"]
    await fac.locator("#floor-mode").select_option("circle")
    await fac.locator("#apply-floor").click()
    await expect(fac.locator("#circle-order li")).to_have_count(2)
    await fac.locator("#next-floor").click()
    for page in (fac, ann, bob):
        await expect(page.locator("#floor-banner")).to_contain_text("Ann")
    await mic_on(ann)
    await eventually(lambda: heard(fac, ids["Ann"]), "the holder to be heard")
    assert not await playback_muted(fac, ids["Ann"])
    await bob.locator("#toggle-mic").click()  # not his turn
    await expect(bob.locator("#mic-reason")).to_be_visible()
    assert await you(bob, "audio") is False
    assert await playback_muted(fac, ids["Bob"]) and await playback_muted(ann, ids["Bob"])

    await ann.locator("#pass-button").click()  # "I pass": the floor moves on to Bob
    for page in (fac, ann, bob):
        await expect(page.locator("#floor-banner")).to_contain_text("Bob")
    assert await ann.evaluate("() => window.hearth.mesh.localAudioTrack().enabled") is False

    async def ann_muted_everywhere() -> bool:
        return await playback_muted(fac, ids["Ann"]) and await playback_muted(bob, ids["Ann"])

    await eventually(ann_muted_everywhere, "Ann's playback to be muted once the floor moved on")
    await mic_on(bob)
    await eventually(lambda: heard(fac, ids["Bob"]), "Bob to be heard with the floor")
    assert not await playback_muted(fac, ids["Bob"])
    await bob.locator("#pass-button").click()  # the round is complete
    await expect(fac.locator("#floor-banner")).not_to_contain_text("Bob")


async def test_a_dropped_member_comes_back_by_itself(
    start_server: StartServer, start_proxy: StartProxy, people: People
) -> None:
    server = await start_server()
    proxy = await start_proxy(server)
    _room, fac, pages, ids = await facilitated_room(
        server, people, ("Ann", "Bob"), base_url=proxy.base_url, floor_mode="queue"
    )
    ann, ann_id = pages["Ann"], ids["Ann"]
    await pages["Bob"].locator("#toggle-hand").click()
    await ann.locator("#toggle-hand").click()

    async def queue_kept() -> bool:
        order = await fac.evaluate("() => window.hearth.client.state.floor.queue")
        return bool(order == [ids["Bob"], ann_id])

    await eventually(queue_kept, "both hands in the queue, Bob first")
    await frames_rising(fac, [ann_id])

    proxy.cut(3.0)  # every socket through the proxy drops, and it refuses new ones for 3 s
    await expect(ann.locator("#connection-status")).to_contain_text("reconnecting", ignore_case=True)
    await expect(fac.locator(f'#tiles .tile[data-participant-id="{ann_id}"]')).to_contain_text(
        "reconnecting", ignore_case=True
    )
    await expect(ann.locator("#connection-status")).to_be_hidden(timeout=30_000)
    assert await ann.evaluate("() => window.hearth.client.state.you.id") == ann_id
    await eventually(queue_kept, "Ann's place in the queue kept")
    await frames_rising(fac, [ann_id])
    await frames_rising(ann, [ids["Fran"], ids["Bob"]])


async def test_ending_the_session_shows_everyone_the_ended_screen(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    _room, fac, pages, _ids = await facilitated_room(server, people, ("Ann", "Bob"))
    await fac.locator("#end-session").click()
    await expect(fac.locator("#end-dialog")).to_be_visible()
    await fac.locator("#cancel-end").click()  # an accidental click changes nothing
    await expect(fac.locator("#end-dialog")).to_be_hidden()
    await expect(fac.locator("#screen-room")).to_be_visible()
    await fac.locator("#end-session").click()
    await fac.locator("#confirm-end").click()
    for page in (fac, *pages.values()):
        await expect(page.locator("#screen-ended")).to_be_visible()

"""The run-sheet over a real server: ``set_phase`` / ``next_phase`` on the wire, the ``phase``
event, ``welcome``/``snapshot`` with the phase, the facilitators' notes (``script``) to those who
may see them and never to a member, and the templates route."""

from __future__ import annotations

from typing import Any

from tests.server.conftest import Running

SHEET = [
    {
        "name": "Check-in round",
        "minutes": 10,
        "kind": "check_in",
        "floor": "circle",
        "notes": "go round, pass ok",
    },
    {"name": "Topic", "minutes": 15, "kind": "topic", "notes": "pacing"},
]
NOTES = ["go round, pass ok", "pacing"]


def no_notes(value: Any) -> None:
    """Nothing in a member's frame holds the facilitators' notes (a ``notes`` or ``script`` key,
    or their words), however deep."""
    if isinstance(value, dict):
        assert not {"notes", "script"} & set(value), value
        for item in value.values():
            no_notes(item)
    elif isinstance(value, list):
        for item in value:
            no_notes(item)
    elif isinstance(value, str):
        assert value not in NOTES


async def test_welcome_and_snapshot_carry_the_phase_and_the_script_to_facilitators(server: Running) -> None:
    room, fran, (ann,) = await server.live_room("Ann", run_sheet=SHEET)
    assert fran.welcome is not None and ann.welcome is not None
    assert fran.welcome["phase"] is None and ann.welcome["phase"] is None
    assert fran.welcome["script"] == NOTES
    assert "script" not in ann.welcome and ann.welcome["room"]["run_sheet"][0] == {
        "name": "Check-in round",
        "minutes": 10,
        "kind": "check_in",
        "floor": "circle",
    }
    no_notes(ann.welcome)

    await fran.ok({"type": "next_phase"})
    event = await ann.recv_until("phase")
    phase = event["phase"]
    assert phase["index"] == 0 and phase["name"] == "Check-in round" and phase["kind"] == "check_in"
    assert phase["floor"] == "circle" and phase["ends_at"] == phase["started_at"] + 600
    assert isinstance(event["seq"], int)
    floor = (await ann.snapshot())["floor"]
    assert floor["mode"] == "circle" and floor["order"] == [ann.id]

    late = await server.joined(room.member, "Bea")
    assert late.welcome is not None and late.welcome["phase"] == phase
    no_notes(late.welcome)
    snap = await ann.snapshot()
    assert snap["phase"] == phase and "script" not in snap
    assert (await fran.snapshot())["script"] == NOTES

    await fran.ok({"type": "set_phase", "index": None})
    assert (await ann.recv_until("phase"))["phase"] is None


async def test_bad_phases_are_refused_and_change_nothing(server: Running) -> None:
    _room, fran, (ann,) = await server.live_room("Ann", run_sheet=SHEET)
    await fran.refused({"type": "set_phase", "index": 2}, "invalid_target")
    await fran.refused({"type": "set_phase", "index": "1"}, "bad_message")
    await fran.refused({"type": "set_phase"}, "bad_message")
    await ann.refused({"type": "next_phase"}, "forbidden")
    await ann.refused({"type": "set_phase", "index": 0}, "forbidden")
    assert (await ann.snapshot())["phase"] is None


async def test_a_patched_run_sheet_ends_a_vanished_phase_and_updates_the_script(server: Running) -> None:
    room, fran, (ann,) = await server.live_room("Ann", run_sheet=SHEET)
    await fran.ok({"type": "set_phase", "index": 1})
    await ann.recv_until("phase")
    async with server.http() as http:
        answer = await http.patch(
            f"/api/rooms/{room.id}",
            json={"run_sheet": [{**SHEET[0], "notes": "new words"}]},
            headers={"Authorization": f"Bearer {room.facilitator}"},
        )
        assert answer.status_code == 200
    assert (await ann.recv_until("phase"))["phase"] is None
    assert (await fran.recv_until("script"))["script"] == ["new words"]
    seen = await ann.drain()
    assert all(m["type"] != "script" for m in seen + ann.seen)  # type: ignore[attr-defined]


async def test_the_templates_route_lists_the_templates_with_notes(server: Running) -> None:
    async with server.http() as http:
        answer = await http.get("/api/runsheet/templates")
    assert answer.status_code == 200
    templates = {t["key"]: t for t in answer.json()["templates"]}
    assert set(templates) == {"cbt_pain", "peer_support", "mindfulness"}
    cbt = templates["cbt_pain"]["phases"]
    assert cbt[0]["kind"] == "check_in" and cbt[0]["floor"] == "circle" and cbt[0]["notes"]
    assert 75 <= sum(p["minutes"] for p in cbt) <= 90

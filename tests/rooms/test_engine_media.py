"""The session's media path and its placement on a media server (``PlaceSfu``)."""

from __future__ import annotations

from engine_helpers import FAC, SESSION, Room, config, idle_room, join, numbered, only
from msgspec.structs import replace

from rooms import commands as c
from rooms.codes import ErrorCode
from rooms.events import MediaPlaced
from rooms.model import MediaMode, MediaPath, Role, RoomState, SessionState, SfuPlacement

JANUS_A = "ws://10.0.0.5:8188"
JANUS_B = "ws://10.0.0.6:8188"


def start(media: MediaPath, *, room: Room | None = None, pid: str = FAC) -> Room:
    room = room or idle_room(lobby=False)
    room.do(replace(join(pid, Role.FACILITATOR), media=media))
    return room


def place(epoch: int, instance: str = JANUS_A, vroom: str = "v1") -> c.PlaceSfu:
    return c.PlaceSfu(instance=instance, room=vroom, epoch=epoch)


def test_the_join_that_starts_the_session_fixes_its_path() -> None:
    room = start(MediaPath.SFU)
    assert (room.state.session, room.state.media) == (SessionState.LIVE, MediaPath.SFU)
    assert room.state.sfu is None


def test_a_later_join_does_not_change_the_path() -> None:
    room = start(MediaPath.SFU)
    room.do(replace(join("m1"), media=MediaPath.MESH))  # the setting changed since: next session
    room.do(replace(join("f2", Role.FACILITATOR), media=MediaPath.MESH))
    assert room.state.media is MediaPath.SFU
    mesh = start(MediaPath.MESH)
    mesh.do(replace(join("f2", Role.FACILITATOR), media=MediaPath.SFU))
    assert mesh.state.media is MediaPath.MESH


def test_a_member_waiting_before_the_session_does_not_choose_the_path() -> None:
    room = idle_room(lobby=False)
    room.do(replace(join("m1"), media=MediaPath.SFU))
    assert room.state.session is SessionState.IDLE
    start(MediaPath.MESH, room=room)
    assert room.state.media is MediaPath.MESH


def test_a_room_update_applies_from_the_next_session() -> None:
    room = start(MediaPath.SFU)
    room.do(c.UpdateRoom(config=replace(room.state.room, media=MediaMode.MESH)))
    assert room.state.room.media is MediaMode.MESH
    assert room.state.media is MediaPath.SFU


def test_the_first_placement_is_epoch_1_and_tells_everyone_only_the_epoch() -> None:
    room = start(MediaPath.SFU)
    room.do(join("m1"))
    out = room.do(place(1))
    assert room.state.sfu == SfuPlacement(instance=JANUS_A, room="v1", epoch=1)
    placed = only(out, MediaPlaced)
    assert placed.to is None and placed in numbered(out)  # every admitted participant, numbered
    assert placed.event == MediaPlaced(epoch=1, seq=room.state.seq)
    assert JANUS_A.encode() not in repr(out).encode()


def test_a_move_follows_the_current_placement() -> None:
    room = start(MediaPath.SFU)
    room.do(place(1))
    room.do(place(2, JANUS_B, "v2"))
    assert room.state.sfu == SfuPlacement(instance=JANUS_B, room="v2", epoch=2)


def test_a_stale_or_skipping_placement_is_refused() -> None:
    room = start(MediaPath.SFU)
    room.refuse(place(2), ErrorCode.INVALID_TARGET)  # no placement yet: only epoch 1
    room.refuse(place(0), ErrorCode.INVALID_TARGET)
    room.do(place(1))
    room.refuse(place(1, JANUS_B), ErrorCode.INVALID_TARGET)  # another node placed it first
    room.refuse(place(3, JANUS_B), ErrorCode.INVALID_TARGET)
    assert room.state.sfu is not None and room.state.sfu.instance == JANUS_A


def test_no_placement_in_a_mesh_session_or_an_idle_room() -> None:
    start(MediaPath.MESH).refuse(place(1), ErrorCode.INVALID_TARGET)
    idle_room(lobby=False).refuse(place(1), ErrorCode.INVALID_TARGET)
    stored_sfu_idle = Room(RoomState(room=config(), media=MediaPath.SFU))
    stored_sfu_idle.refuse(place(1), ErrorCode.INVALID_TARGET)


def test_the_end_of_the_session_clears_path_and_placement() -> None:
    room = start(MediaPath.SFU)
    room.do(place(1))
    room.do(c.EndSession(actor=FAC))
    assert (room.state.session, room.state.media, room.state.sfu) == (SessionState.IDLE, MediaPath.MESH, None)
    start(MediaPath.MESH, room=room)
    assert room.state.media is MediaPath.MESH
    assert room.state.session_id == SESSION


def test_clone_keeps_the_path_and_placement() -> None:
    room = start(MediaPath.SFU)
    room.do(place(1))
    copy = room.state.clone()
    assert (copy.media, copy.sfu) == (MediaPath.SFU, room.state.sfu)

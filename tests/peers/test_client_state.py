"""Invite links and the room state a Python peer keeps (frames fed directly, no server)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.peers import HearthPeer, InvalidLink, LocalMedia, parse_link


def test_links_give_the_websocket_url_and_the_token() -> None:
    invite = parse_link("https://hearth.example.org/r/AbC_d-1#k=tok.en")
    assert (invite.ws_url, invite.room_id, invite.token) == (
        "wss://hearth.example.org/ws",
        "AbC_d-1",
        "tok.en",
    )
    assert not invite.is_loopback()
    local = parse_link("http://127.0.0.1:8080/groups/r/room1?k=abc")
    assert (local.ws_url, local.token, local.is_loopback()) == ("ws://127.0.0.1:8080/groups/ws", "abc", True)
    minted = HearthPeer("http://localhost:8080/groups/", "Pat", token="xyz").invite
    assert (minted.ws_url, minted.token, minted.is_loopback()) == (
        "ws://localhost:8080/groups/ws",
        "xyz",
        True,
    )


@pytest.mark.parametrize(
    "link",
    [
        "",
        "ftp://host/r/room#k=t",
        "http://host/room#k=t",
        "http://host/r/room",
        "http://host/r/room#k=",
        "/r/room#k=t",
    ],
)
def test_links_that_are_not_invites_are_refused(link: str) -> None:
    with pytest.raises(InvalidLink):
        parse_link(link)


def person(pid: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "name": pid,
        "audio": False,
        "video": True,
        "can_speak": True,
        "connected": True,
        **fields,
    }


async def test_a_gap_in_seq_asks_for_a_snapshot_and_waits_for_it() -> None:
    peer = HearthPeer("http://127.0.0.1:1/r/room#k=t", "Pat", media=LocalMedia(), accept=lambda pid: False)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    peer.send = send  # type: ignore[method-assign]
    me = person("p1", audio=True)
    peer._receive(
        {"type": "welcome", "you": me, "participants": [me], "floor": {}, "seq": 4, "ice_servers": []}
    )
    peer._receive({"type": "participant_joined", "participant": person("p2"), "seq": 5})
    assert set(peer.participants) == {"p1", "p2"} and peer.state.seq == 5

    peer._receive({"type": "participant_joined", "participant": person("p3"), "seq": 7})  # 6 is missing
    peer._receive({"type": "participant_left", "id": "p2", "seq": 8})
    await _settle()
    assert {"type": "sync"} in sent
    assert set(peer.participants) == {"p1", "p2"}, "numbered frames wait for the snapshot"

    peer._receive({"type": "snapshot", "you": me, "participants": [me, person("p3")], "floor": {}, "seq": 8})
    peer._receive({"type": "participant_updated", "participant": person("p3", can_speak=False), "seq": 9})
    assert set(peer.participants) == {"p1", "p3"} and peer.state.seq == 9
    assert peer.audible() == {"p3": False}
    await peer.close()


async def test_a_facilitator_mute_silences_the_microphone_at_once() -> None:
    peer = HearthPeer("http://127.0.0.1:1/r/room#k=t", "Pat", media=LocalMedia(), accept=lambda pid: False)

    async def send(message: dict[str, Any]) -> None:
        pass

    peer.send = send  # type: ignore[method-assign]
    me = person("p1", audio=True)
    peer._receive(
        {"type": "welcome", "you": me, "participants": [me], "floor": {}, "seq": 1, "ice_servers": []}
    )
    assert peer.media.microphone and peer.media.camera

    muted = person("p1", audio=False, muted_by_facilitator=True, can_speak=False)
    peer._receive({"type": "participant_updated", "participant": muted, "seq": 2})
    assert not peer.media.microphone
    allowed = person("p1", audio=False, muted_by_facilitator=False, can_speak=True)
    peer._receive({"type": "participant_updated", "participant": allowed, "seq": 3})
    assert not peer.media.microphone, "nothing switches the microphone on by itself"
    await peer.close()


async def _settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)

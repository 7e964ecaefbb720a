"""Python peers meet in one room; `hearth probe` and `hearth bots` against a real server."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from server.peers import HearthPeer, LocalMedia
from tests.peers.conftest import (
    MEDIA_TIMEOUT,
    TURN_SECRET,
    MakePeer,
    frames_rising,
    invite,
    level,
    silent_host,
)
from tests.polling import eventually
from tests.server.conftest import StartServer

ROOT = Path(__file__).resolve().parents[2]
HEARD = 0.02  # the tone arrives at 0.18 RMS
SILENT = 0.005

pytestmark = pytest.mark.slow


async def three_in_a_room(start_server: StartServer, peers: MakePeer) -> list[HearthPeer]:
    """Fran (facilitator), Ana and Ben (members) in a room without lobby, all joined."""
    server = await start_server()
    room = await server.create_room(lobby=False)
    group = [
        peers(invite(server, room.id, room.facilitator), "Fran"),
        peers(invite(server, room.id, room.member), "Ana"),
        peers(invite(server, room.id, room.member), "Ben"),
    ]
    for peer in group:
        await peer.join()
    return group


async def test_three_python_peers_receive_each_others_video_and_audio(
    start_server: StartServer, peers: MakePeer
) -> None:
    group = await three_in_a_room(start_server, peers)
    for peer in group:
        await frames_rising(peer, [other.id for other in group if other is not peer])
    for peer in group:
        for other in group:
            if other is not peer:
                await eventually(
                    lambda p=peer, o=other: level(p, o.id) > HEARD,
                    f"{peer.name} to hear {other.name}",
                    timeout=MEDIA_TIMEOUT,
                )
    fran = group[0]
    assert all(pair is not None and pair == ("host", "host") for pair in fran.selected_pair_types().values())
    assert all(stats.frame_width == 320 for stats in fran.stats().values())


async def test_a_muted_peer_is_heard_as_silence(start_server: StartServer, peers: MakePeer) -> None:
    fran, ana, ben = await three_in_a_room(start_server, peers)
    for peer, other in ((fran, ben), (ana, ben), (fran, ana)):
        await eventually(
            lambda p=peer, o=other: level(p, o.id) > HEARD,
            f"{peer.name} to hear {other.name}",
            timeout=MEDIA_TIMEOUT,
        )

    await fran.request({"type": "mute", "target": ben.id})

    await eventually(lambda: not ben.media.microphone, "Ben's client to obey the mute", timeout=5)
    await eventually(
        lambda: level(fran, ben.id) < SILENT and level(ana, ben.id) < SILENT,
        "Ben to be silent at Fran and Ana",
        timeout=MEDIA_TIMEOUT,
    )
    assert ana.audible()[ben.id] is False and fran.audible()[ben.id] is False
    assert level(fran, ana.id) > HEARD, "Ana is still heard"
    assert ana.stats()[ben.id].frames > 0 and ben.stats()[ana.id].audio_frames > 0  # media still flows


async def test_a_peer_can_send_a_media_file(
    start_server: StartServer, peers: MakePeer, media_file: Path
) -> None:
    server = await start_server()
    room = await server.create_room(lobby=False)
    fran = peers(invite(server, room.id, room.facilitator), "Fran")
    ana = peers(invite(server, room.id, room.member), "Ana", media=LocalMedia(path=str(media_file)))
    for peer in (fran, ana):
        await peer.join()

    await frames_rising(fran, [ana.id])
    await eventually(
        lambda: level(fran, ana.id) > HEARD, "Fran to hear the file's tone", timeout=MEDIA_TIMEOUT
    )
    assert fran.stats()[ana.id].frame_width == 176
    await frames_rising(ana, [fran.id])


async def hearth(*args: str, timeout: float = 60.0) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_probe_reports_media_both_ways(start_server: StartServer, peers: MakePeer) -> None:
    server = await start_server()
    room = await server.create_room(lobby=False)
    await silent_host(peers, server, room)

    status, out, err = await hearth("probe", invite(server, room.id, room.member), "--timeout", "20")

    assert status == 0, out + err
    assert "media flowed both ways" in out
    assert out.count("path host (host -> host)") == 2, out
    assert "first frame after" in out and "fps" in out and "round-trip time" in out


@pytest.mark.turn
async def test_probe_reports_a_relayed_path_under_the_relay_policy(
    start_server: StartServer, turn_url: str
) -> None:
    server = await start_server(turn_urls=turn_url, turn_secret=TURN_SECRET, ice_policy="relay")
    room = await server.create_room(lobby=False)

    status, out, err = await hearth("probe", invite(server, room.id, room.facilitator), "--timeout", "20")

    assert status == 0, out + err
    assert out.count("path relay (relay -> relay)") == 2, out


async def test_probe_fails_for_an_invalid_link_or_a_refused_one(start_server: StartServer) -> None:
    status, out, err = await hearth("probe", "http://127.0.0.1:9/not-a-room")
    assert status == 1 and "invalid link" in err, out + err

    server = await start_server()
    room = await server.create_room(lobby=False)
    status, out, err = await hearth("probe", invite(server, room.id, "not-a-token"))
    assert status == 1 and "refused" in err, out + err


async def test_bots_report_three_bots(start_server: StartServer, peers: MakePeer) -> None:
    server = await start_server()
    room = await server.create_room(lobby=False)
    await silent_host(peers, server, room)

    status, out, err = await hearth(
        "bots", invite(server, room.id, room.member), "--count", "3", "--duration", "4"
    )

    assert status == 0, out + err
    lines = out.splitlines()
    for name in ("Bot 1", "Bot 2", "Bot 3"):
        line = next(line for line in lines if line.strip().startswith(f"{name} ("))
        assert "joined in" in line and "fps video" in line, line
    assert "failed bots: 0" in out
    assert "fps video between bots: mean" in out

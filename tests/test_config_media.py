"""The media server settings: Janus endpoints and secret, the ``auto`` threshold, and the media
path each room's next session takes."""

from __future__ import annotations

from pathlib import Path

import pytest

from rooms.model import MediaMode, MediaPath, RoomConfig
from server.config import ConfigError, Settings

JANUS = "ws://127.0.0.1:8188"


def settings(tmp_path: Path, env: dict[str, str] | None = None, **overrides: object) -> Settings:
    return Settings.from_env({"HEARTH_DATA_DIR": str(tmp_path), **(env or {})}, **overrides)


def room(media: MediaMode, seats: int = 12) -> RoomConfig:
    return RoomConfig(id="r1", title="Tuesday group", media=media, max_participants=seats)


def test_without_janus_there_is_no_media_server(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert (s.janus_urls, s.janus_secret, s.sfu_min_seats) == ((), "", 5)
    assert not s.sfu_available()
    assert "janus_secret" not in repr(settings(tmp_path, janus_secret="hidden-value"))


def test_the_environment_and_the_flags(tmp_path: Path) -> None:
    env = {
        "HEARTH_JANUS_URLS": " ws://10.0.0.5:8188/ , wss://janus.internal:8989,",
        "HEARTH_JANUS_SECRET": " janus-secret ",
        "HEARTH_SFU_MIN_SEATS": "7",
    }
    s = settings(tmp_path, env)
    assert s.janus_urls == ("ws://10.0.0.5:8188", "wss://janus.internal:8989")
    assert (s.janus_secret, s.sfu_min_seats) == ("janus-secret", 7)
    assert s.sfu_available()
    s.check()
    flagged = settings(tmp_path, env, janus_urls="ws://[::1]:9000", sfu_min_seats="3")
    assert (flagged.janus_urls, flagged.sfu_min_seats) == (("ws://[::1]:9000",), 3)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HEARTH_JANUS_URLS", "http://127.0.0.1:8188"),
        ("HEARTH_JANUS_URLS", "127.0.0.1:8188"),
        ("HEARTH_JANUS_URLS", "ws://127.0.0.1"),  # no port: Janus has no standard one
        ("HEARTH_JANUS_URLS", "ws://:8188"),
        ("HEARTH_JANUS_URLS", "ws://127.0.0.1:port"),
        ("HEARTH_JANUS_URLS", "ws://127.0.0.1:99999"),
        ("HEARTH_JANUS_URLS", "ws://127.0.0.1:8188/janus"),
        ("HEARTH_JANUS_URLS", "ws://127.0.0.1:8188,ws://127.0.0.1"),
        ("HEARTH_SFU_MIN_SEATS", "1"),
        ("HEARTH_SFU_MIN_SEATS", "51"),
        ("HEARTH_SFU_MIN_SEATS", "many"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        settings(tmp_path, {variable: value})


def test_janus_needs_its_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HEARTH_JANUS_SECRET"):
        settings(tmp_path, janus_urls=JANUS).check()
    settings(tmp_path, janus_urls=JANUS, janus_secret="s").check()


@pytest.mark.parametrize(
    ("media", "seats", "path"),
    [
        (MediaMode.MESH, 12, MediaPath.MESH),
        (MediaMode.MESH, 50, MediaPath.MESH),
        (MediaMode.SFU, 2, MediaPath.SFU),
        (MediaMode.SFU, 12, MediaPath.SFU),
        (MediaMode.AUTO, 4, MediaPath.MESH),
        (MediaMode.AUTO, 5, MediaPath.SFU),
        (MediaMode.AUTO, 12, MediaPath.SFU),
    ],
)
def test_the_media_path_with_a_media_server(
    tmp_path: Path, media: MediaMode, seats: int, path: MediaPath
) -> None:
    s = settings(tmp_path, janus_urls=JANUS, janus_secret="s")
    assert s.media_path(room(media, seats)) is path


def test_the_threshold_is_a_setting(tmp_path: Path) -> None:
    s = settings(tmp_path, janus_urls=JANUS, janus_secret="s", sfu_min_seats=8)
    assert s.media_path(room(MediaMode.AUTO, 7)) is MediaPath.MESH
    assert s.media_path(room(MediaMode.AUTO, 8)) is MediaPath.SFU


@pytest.mark.parametrize("media", list(MediaMode))
def test_without_a_media_server_every_room_is_a_mesh(tmp_path: Path, media: MediaMode) -> None:
    assert settings(tmp_path).media_path(room(media, 50)) is MediaPath.MESH

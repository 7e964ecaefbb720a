"""The message registry: every client message has exactly one route, every route ends in a
handler, and docs/protocol.md lists exactly the messages the code accepts and emits."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from rooms import commands as c
from rooms import events
from rooms.handlers import HANDLERS
from server import protocol
from server.requests import SERVER_HANDLERS, route_table

ROOT = Path(__file__).resolve().parents[2]
INTERNAL_EVENTS = {"admitted"}  # rooms.events.Admitted: tells a connection to welcome, never sent


def _client_commands() -> set[type[c.Command]]:
    found = {v for v in vars(c).values() if isinstance(v, type) and issubclass(v, c.Command)}
    return {command for command in found if command.wire is not None}


def test_every_message_has_exactly_one_route() -> None:
    rows = route_table()
    assert sorted(row.wire for row in rows) == sorted(protocol.KNOWN_TYPES)
    for row in rows:
        if row.command is None:  # a server-level message: a server handler serves it
            assert row.server_handler is not None, f"{row.wire}: no command and no server handler"
        else:  # a room message: the engine has a handler for its command, with a capability
            assert row.command in HANDLERS, f"{row.wire}: {row.command.__name__} has no engine handler"
            assert row.capability is not None, f"{row.wire}: {row.command.__name__} needs a capability"
    assert set(SERVER_HANDLERS) <= protocol.KNOWN_TYPES, "a server handler for an undeclared message"


def test_every_command_is_a_client_message_or_a_system_command() -> None:
    routed = [route.command for route in protocol.ROUTES.values() if route.command is not None]
    assert len(routed) == len(set(routed)), "a command reachable from two message types"
    assert set(routed) == _client_commands(), "a command with a wire name but no message, or the reverse"
    for command, spec in HANDLERS.items():
        if spec.capability is None:
            assert command.wire is None, f"{command.__name__}: a system command cannot be a client message"
        else:
            assert command in routed, f"{command.__name__}: a client command no message asks for"


def test_the_decoder_reads_every_declared_message() -> None:
    for wire, route in protocol.ROUTES.items():
        info = msgspec.inspect.type_info(route.message)
        assert isinstance(info, msgspec.inspect.StructType)
        required = {f.name: f.type for f in info.fields if f.required}
        if required:  # a message with required fields: refused without them, naming the type
            with pytest.raises(protocol.ProtocolError) as refused:
                protocol.decode(msgspec.json.encode({"type": wire}))
            assert refused.value.kind == wire
        else:
            assert isinstance(protocol.decode(msgspec.json.encode({"type": wire})), route.message)


@pytest.mark.parametrize(
    ("frame", "command"),
    [
        ({"type": "mute", "target": "p1", "video": True}, c.Mute(actor="a", target="p1", video=True)),
        ({"type": "mute", "target": "p1"}, c.Mute(actor="a", target="p1")),
        ({"type": "remove", "target": "p2", "ban": True}, c.Remove(actor="a", target="p2", ban=True)),
        ({"type": "react", "emoji": "💜"}, c.React(actor="a", emoji="💜")),
        ({"type": "lock", "locked": True}, c.Lock(actor="a", locked=True)),
        ({"type": "end_session"}, c.EndSession(actor="a")),
        ({"type": "set_floor", "mode": "queue"}, c.SetFloor(actor="a", mode="queue")),  # type: ignore[arg-type]
    ],
)
def test_a_message_becomes_its_command_with_the_actor_stamped(
    frame: dict[str, object], command: c.Command
) -> None:
    assert protocol.to_command(protocol.decode(msgspec.json.encode({**frame, "actor": "x"})), "a") == command


def test_the_limits_written_on_a_command_hold_on_the_wire() -> None:
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.decode(b'{"type":"admit","target":""}')
    assert refused.value.message == "invalid admit: Expected 'str' of length >= 1 - at '$.target'"
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.decode(msgspec.json.encode({"type": "react", "emoji": "x" * 17}))
    assert refused.value.message == "invalid react: Expected 'str' of length <= 16 - at '$.emoji'"


# docs/protocol.md -------------------------------------------------------------------------------


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def _documented() -> tuple[set[str], set[str]]:
    text = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    client: set[str] = set()
    for line in _section(text, "\n## 2. Client messages").splitlines():
        if line.startswith("### "):  # e.g. "### `admit` / `admit_all` / `deny`"
            client |= set(re.findall(r"`([a-z_]+)`", line))
    server: set[str] = set()
    for line in _section(text, "\n## 3. Server messages").splitlines():
        if match := re.match(r"\| `([a-z_]+)` \|", line):  # the first column of the table
            server.add(match.group(1))
    return client, server


def _emitted() -> set[str]:
    tags = set()
    for value in vars(events).values():
        if isinstance(value, type) and issubclass(value, events.Event) and value is not events.Event:
            tags.add(str(value.__struct_config__.tag))
    return (tags - INTERNAL_EVENTS) | protocol.SERVER_FRAMES


def test_server_frames_written_by_hand_are_declared() -> None:
    """Frames the server writes as literals (not event structs) are all in SERVER_FRAMES."""
    written: set[str] = set()
    for path in (ROOT / "server").rglob("*.py"):
        if path.parent.name == "peers":  # a client (bots, probe): it writes client messages
            continue
        source = path.read_text(encoding="utf-8")
        written |= set(re.findall(r"""["']type["']:\s*["']([a-z_]+)["']""", source))
    written |= set(re.findall(r'"type":"([a-z_]+)"', (ROOT / "server" / "protocol.py").read_text()))
    assert written <= protocol.SERVER_FRAMES | _emitted()


def test_the_protocol_doc_lists_exactly_the_client_messages_the_code_accepts() -> None:
    client, _ = _documented()
    assert client == set(protocol.KNOWN_TYPES), (
        f"documented only: {sorted(client - protocol.KNOWN_TYPES)}, "
        f"accepted only: {sorted(protocol.KNOWN_TYPES - client)}"
    )


def test_the_protocol_doc_lists_exactly_the_server_messages_the_code_emits() -> None:
    _, server = _documented()
    emitted = _emitted()
    assert server == emitted, (
        f"documented only: {sorted(server - emitted)}, emitted only: {sorted(emitted - server)}"
    )


# static/js ------------------------------------------------------------------------------------

JS = ROOT / "static" / "js"
WIRE_AWARE = {"protocol.js", "state.js"}  # docs/client.md: only these know the wire format


def _wire_types_written(source: str) -> set[str]:
    return set(re.findall(r"""\btype:\s*["']([a-z_]+)["']""", source)) & protocol.KNOWN_TYPES


def test_the_browser_client_has_a_command_for_every_client_message() -> None:
    written = _wire_types_written((JS / "protocol.js").read_text(encoding="utf-8"))
    missing = sorted(protocol.KNOWN_TYPES - written)
    assert written == set(protocol.KNOWN_TYPES), f"no client method for {missing}"


def test_only_the_protocol_module_builds_client_messages() -> None:
    for path in sorted(JS.rglob("*.js")):
        if path.name in WIRE_AWARE:
            continue
        source = path.read_text(encoding="utf-8")
        assert not _wire_types_written(source), f"{path.relative_to(ROOT)} builds a wire message"
        # negotiation.js builds a signal's `data` (description, candidate, hello), which
        # `client.signal(to, data)` carries
        if path.parent.name == "ui" or path.name in ("main.js", "rtc.js", "sfu.js", "playback.js"):
            raw = re.search(r"\.(request|send)\(\s*\{", source)
            assert not raw, f"{path.relative_to(ROOT)} sends a raw object"

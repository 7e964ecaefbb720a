"""The wire codec (server/protocol.py) on its own, no sockets: every client message kind decodes
into its struct, bad input is refused with the right code and reason, nesting and
length limits hold, a room message becomes its command with the authenticated actor stamped, and
the server's own frames encode as documented. The registry's wiring (every route has a handler,
docs list every type) is tests/server/test_registry.py."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from rooms import commands as c
from rooms.codes import ErrorCode
from server import protocol

# One valid example of every client message type (the registry test below checks all are here).
EXAMPLES: dict[str, dict[str, Any]] = {
    "join": {"token": "t", "name": "Ann", "agree": True, "device": "d1"},
    "signal": {"to": "p2", "data": {"hello": True, "pc": "1-2"}},
    "sync": {},
    "ping": {},
    "chat_history": {"before": "m1", "limit": 10},
    "chat": {"text": "hello", "to": "facilitators"},
    "set_floor": {"mode": "queue", "turn_seconds": 60, "order": ["p1", "p2"]},
    "sfu": {"pc": "pub", "description": {"type": "offer", "sdp": "v=0"}},
}


def _example(wire: str) -> dict[str, Any]:
    """A valid frame of type ``wire``: the hand-written example, or the command's required
    fields filled with a value of their type."""
    if wire in EXAMPLES:
        return {"type": wire, **EXAMPLES[wire]}
    info = msgspec.inspect.type_info(protocol.ROUTES[wire].message)
    assert isinstance(info, msgspec.inspect.StructType)
    frame: dict[str, Any] = {"type": wire}
    for field in info.fields:
        if field.required:
            frame[field.name] = _value_of(field.type, field.name)
    return frame


def _value_of(kind: msgspec.inspect.Type, name: str) -> Any:
    if isinstance(kind, msgspec.inspect.UnionType):
        kind = next(t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType))
    if isinstance(kind, msgspec.inspect.BoolType):
        return True
    if isinstance(kind, msgspec.inspect.IntType):
        return kind.ge if kind.ge is not None else 1
    if isinstance(kind, msgspec.inspect.StrType):
        return "x" * max(1, kind.min_length or 1)
    if isinstance(kind, msgspec.inspect.LiteralType):
        return kind.values[0]
    if isinstance(kind, msgspec.inspect.ListType | msgspec.inspect.TupleType | msgspec.inspect.VarTupleType):
        return []
    raise AssertionError(f"no example value for {name}: {kind!r}; add the type to EXAMPLES")


@pytest.mark.parametrize("wire", sorted(protocol.ROUTES))
def test_every_message_kind_decodes_into_its_struct_with_its_id(wire: str) -> None:
    frame = {**_example(wire), "id": 7}
    msg = protocol.decode(json.dumps(frame))
    assert type(msg) is protocol.ROUTES[wire].message
    assert msg.id == 7
    for name, value in frame.items():
        if name not in ("type", "id"):
            decoded = getattr(msg, name)
            plain = msgspec.to_builtins(decoded)
            assert plain == value or (isinstance(plain, list) and list(plain) == value), name


def test_every_declared_message_has_an_example() -> None:
    """Hand-written examples name only declared types (a renamed message fails here)."""
    assert set(EXAMPLES) <= protocol.KNOWN_TYPES


@pytest.mark.parametrize(
    ("text", "code", "message", "ref"),
    [
        ("not json", ErrorCode.BAD_MESSAGE, "a message must be one JSON object", None),
        ("[1, 2]", ErrorCode.BAD_MESSAGE, "every message needs a string 'type'", None),
        ('{"id": 3}', ErrorCode.BAD_MESSAGE, "every message needs a string 'type'", 3),
        ('{"type": 5, "id": "r"}', ErrorCode.BAD_MESSAGE, "every message needs a string 'type'", "r"),
        ('{"type": "fly", "id": 4}', ErrorCode.UNKNOWN_TYPE, "unknown message type", 4),
        ('{"type": "FLY"}', ErrorCode.UNKNOWN_TYPE, "unknown message type", None),
        (
            '{"type": "ping", "id": true}',
            ErrorCode.BAD_MESSAGE,
            "invalid ping: Expected 'int | str | null', got 'bool' - at '$.id'",
            None,
        ),
        (
            '{"type": "join", "id": 1}',
            ErrorCode.BAD_MESSAGE,
            "invalid join: Object missing required field 'token'",
            1,
        ),
        (
            '{"type": "join", "token": "t", "agree": "yes"}',
            ErrorCode.BAD_MESSAGE,
            "invalid join: Expected 'bool', got 'str' - at '$.agree'",
            None,
        ),
        (  # `to` is "facilitators" or a participant id (an unknown one: invalid_target, later)
            '{"type": "chat", "text": "hi", "to": 5}',
            ErrorCode.BAD_MESSAGE,
            "invalid chat: Expected 'str | null', got 'int' - at '$.to'",
            None,
        ),
        (
            '{"type": "chat", "text": "hi", "to": ""}',
            ErrorCode.BAD_MESSAGE,
            "invalid chat: Expected 'str' of length >= 1 - at '$.to'",
            None,
        ),
        (
            '{"type": "chat_history", "limit": 0}',
            ErrorCode.BAD_MESSAGE,
            "invalid chat_history: Expected 'int' >= 1 - at '$.limit'",
            None,
        ),
        ('{"type": "set_floor", "mode": "queue", "turn_seconds": 1}', ErrorCode.BAD_MESSAGE, None, None),
    ],
)
def test_bad_input_is_refused_with_a_code_and_a_reason(
    text: str, code: ErrorCode, message: str | None, ref: object
) -> None:
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.decode(text)
    assert refused.value.code == code
    assert refused.value.ref == ref
    if message is not None:
        assert refused.value.message == message


def test_the_type_of_a_refused_known_message_is_named() -> None:
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.decode('{"type": "mute"}')
    assert refused.value.kind == "mute"
    with pytest.raises(protocol.ProtocolError) as unknown:
        protocol.decode('{"type": "fly"}')
    assert unknown.value.kind is None


def test_unknown_fields_are_ignored_on_messages_but_refused_inside_signal_data() -> None:
    assert isinstance(protocol.decode('{"type": "ping", "extra": {"a": 1}}'), protocol.PingMsg)
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.decode('{"type": "signal", "to": "p", "data": {"hello": true, "x": 1}}')
    assert refused.value.code == ErrorCode.BAD_MESSAGE


@pytest.mark.parametrize("given", [0, 2, 3])
def test_a_signal_carries_exactly_one_thing(given: int) -> None:
    offer = {"type": "offer", "sdp": ""}
    parts: list[tuple[str, Any]] = [("hello", True), ("candidate", None), ("description", offer)]
    data = dict(parts[:given])
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.decode(json.dumps({"type": "signal", "to": "p", "data": data}))
    assert "exactly one of" in refused.value.message


def _nested(depth: int) -> Any:
    """``depth`` levels of arrays (a list holding a list ...)."""
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_nesting_is_refused_beyond_the_bound_and_accepted_at_it() -> None:
    # An ``order`` is a typed list of ids: any nesting in it is refused by its type.
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(json.dumps({"type": "set_floor", "mode": "queue", "order": [["p"]]}))
    # Deep nesting in an ignored (unknown) field of a message, beyond what the stack allows.
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.decode('{"type": "ping", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert refused.value.code == ErrorCode.BAD_MESSAGE


def test_the_depth_check_counts_levels_exactly() -> None:
    # The message's own object is level 1, so a field may hold MAX_DEPTH - 1 levels.
    assert not protocol._deeper_than(_nested(protocol.MAX_DEPTH - 1), protocol.MAX_DEPTH - 1)
    assert protocol._deeper_than(_nested(protocol.MAX_DEPTH), protocol.MAX_DEPTH - 1)
    assert protocol._deeper_than({"a": {"b": _nested(protocol.MAX_DEPTH - 2)}}, protocol.MAX_DEPTH - 1)
    assert not protocol._deeper_than("[[[[not nesting]]]]", 1)


@pytest.mark.parametrize(
    ("frame", "size"),
    [
        ({"type": "join", "token": "t" * 4097}, "token"),
        ({"type": "join", "token": "t", "device": ""}, "device"),
        ({"type": "join", "token": "t", "device": "d" * 129}, "device"),
        ({"type": "signal", "to": "p", "data": {"hello": True, "pc": "p" * 65}}, "pc"),
        ({"type": "signal", "to": "p", "data": {"hello": True, "pc": ""}}, "pc"),
        ({"type": "chat_history", "limit": 1001}, "limit"),
        ({"type": "set_floor", "mode": "queue", "order": ["p"] * 501}, "order"),
    ],
)
def test_length_limits_hold_while_decoding(frame: dict[str, Any], size: str) -> None:
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.decode(json.dumps(frame))
    assert refused.value.code == ErrorCode.BAD_MESSAGE and size in refused.value.message


def test_to_command_stamps_the_authenticated_actor_whatever_the_client_wrote() -> None:
    for wire, route in protocol.ROUTES.items():
        if route.command is None:
            continue
        msg = protocol.decode(json.dumps({**_example(wire), "actor": "someone-else"}))
        command = protocol.to_command(msg, "me")
        assert type(command) is route.command
        assert command.actor == "me", wire


def test_to_command_refuses_a_server_level_message() -> None:
    for wire, route in protocol.ROUTES.items():
        if route.command is None:
            with pytest.raises(KeyError):
                protocol.to_command(protocol.decode(json.dumps(_example(wire))), "me")


def test_chat_gets_a_fresh_server_id_and_its_audience() -> None:
    msg = protocol.decode('{"type": "chat", "text": "hi", "message_id": "mine"}')
    first, second = protocol.to_command(msg, "a"), protocol.to_command(msg, "a")
    assert isinstance(first, c.Chat) and isinstance(second, c.Chat)
    assert first.message_id != "mine" and first.message_id != second.message_id
    assert first.message_id.startswith("m") and not first.to_facilitators
    private = protocol.decode('{"type": "chat", "text": "hi", "to": "facilitators"}')
    to_facilitators = protocol.to_command(private, "a")
    assert isinstance(to_facilitators, c.Chat) and to_facilitators.to_facilitators
    assert to_facilitators.to is None
    reply = protocol.to_command(protocol.decode('{"type": "chat", "text": "hi", "to": "p1a2b"}'), "a")
    assert isinstance(reply, c.Chat) and reply.to == "p1a2b" and not reply.to_facilitators


def test_ask_help_gets_a_fresh_server_id_for_its_chat_line() -> None:
    msg = protocol.decode('{"type": "ask_help", "text": "help", "message_id": "mine"}')
    command = protocol.to_command(msg, "a")
    assert isinstance(command, c.AskHelp) and command.text == "help" and command.actor == "a"
    assert command.message_id.startswith("m") and command.message_id != "mine"


def test_set_floor_tells_an_absent_turn_timer_from_a_removed_one() -> None:
    def floor(frame: str) -> c.SetFloor:
        command = protocol.to_command(protocol.decode(frame), "a")
        assert isinstance(command, c.SetFloor)
        return command

    kept = floor('{"type": "set_floor", "mode": "queue"}')
    removed = floor('{"type": "set_floor", "mode": "queue", "turn_seconds": null}')
    set_ = floor('{"type": "set_floor", "mode": "queue", "turn_seconds": 90, "order": ["b", "a"]}')
    assert (kept.turn_seconds, kept.set_turn_seconds) == (None, False)
    assert (removed.turn_seconds, removed.set_turn_seconds) == (None, True)
    assert (set_.turn_seconds, set_.set_turn_seconds, set_.order) == (90, True, ("b", "a"))


def test_server_frames_encode_as_documented() -> None:
    assert json.loads(protocol.ack("r1")) == {"type": "ack", "ref": "r1"}
    assert json.loads(protocol.ack(5)) == {"type": "ack", "ref": 5}
    plain = json.loads(protocol.error(ErrorCode.FORBIDDEN, "no"))
    assert plain == {"type": "error", "code": "forbidden", "message": "no"}
    with_ref = json.loads(protocol.error(ErrorCode.TOO_LARGE, "big", ref=0))
    assert with_ref == {"type": "error", "code": "too_large", "message": "big", "ref": 0}
    assert json.loads(protocol.PONG) == {"type": "pong"}
    # A relayed signal keeps exactly the fields its sender wrote (UNSET fields are left out).
    data = '{"candidate": {"candidate": ""}, "pc": null}'
    msg = protocol.decode('{"type": "signal", "to": "p", "data": ' + data + "}")
    assert isinstance(msg, protocol.SignalMsg)
    assert json.loads(protocol.encode(msg.data)) == {"candidate": {"candidate": ""}, "pc": None}


def test_printable_name_refuses_with_a_protocol_error() -> None:
    assert protocol.printable_name("  Ann  ", 40) == "Ann"
    for bad in ("", "   ", "A" * 41, "\u202eAnn"):
        with pytest.raises(protocol.ProtocolError) as refused:
            protocol.printable_name(bad, 40)
        assert refused.value.code == ErrorCode.BAD_MESSAGE

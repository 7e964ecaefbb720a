"""The wire codec: typed client messages, validation, and the frames only the server writes.

msgspec was chosen over pydantic: it decodes JSON straight into typed structs with a tagged
union on ``type`` in one pass (no intermediate dict), enforces length limits while decoding, and
encodes the same structs the engine emits, several times faster than pydantic v2 on small
messages. The socket loop only moves text; this module turns text into commands.
"""

from __future__ import annotations

import functools
import operator
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, get_type_hints

import msgspec
from msgspec import Meta

from rooms import commands as c
from rooms import text as text_rules
from rooms.codes import ErrorCode
from rooms.limits import TURN_SECONDS_MAX, TURN_SECONDS_MIN
from rooms.model import FloorMode

Id = str | int
Target = c.Target


class Msg(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", forbid_unknown_fields=False):
    id: Id | None = None


ClientMessage = Msg
"""Any client message (the decoder yields one of the structs in ``ROUTES``)."""


# The registry ------------------------------------------------------------------------------------
#
# One entry per client message type: the struct msgspec decodes it into, and the room command it
# becomes (``None``: a server-level message, served by ``server.requests.SERVER_HANDLERS``). A
# room command's capability comes from its engine handler (``rooms.handlers.HANDLERS``); the
# joined table is ``server.requests.route_table()``. The decoder's tagged union, ``KNOWN_TYPES``
# and ``to_command`` are derived from here.
#
# Most messages are their command: ``room_message(c.Mute)`` makes the struct from the command's
# fields (all but ``actor``, with the limits written on the command) and converts by copying the
# same-named fields and stamping the actor. Only a message whose wire shape differs (fields only
# the server sets, other names) is written out below with its own conversion.

Convert = Callable[[Any, str], c.Command]


@dataclass(frozen=True)
class Route:
    """One client message type: the struct it decodes into and the command it becomes."""

    wire: str
    message: type[Msg]
    command: type[c.Command] | None = None  # None: a server-level message
    convert: Convert | None = None


ROUTES: dict[str, Route] = {}
_BY_MESSAGE: dict[type[Msg], Route] = {}


def _register(route: Route) -> None:
    if route.wire in ROUTES:
        raise TypeError(f"client message {route.wire!r} is declared twice")
    if route.command is not None and route.command.wire != route.wire:
        raise TypeError(f"{route.command.__name__}.wire is {route.command.wire!r}, not {route.wire!r}")
    ROUTES[route.wire] = route
    _BY_MESSAGE[route.message] = route


def _tag(message: type[Msg]) -> str:
    return str(message.__struct_config__.tag)


M = TypeVar("M", bound=Msg)


def server_message(message: type[M]) -> type[M]:
    """Declare a message the server serves itself (no room command)."""
    _register(Route(_tag(message), message))
    return message


def special_message(command: type[c.Command], convert: Convert) -> Callable[[type[M]], type[M]]:
    """Declare a hand-written message for ``command`` and how it becomes one."""

    def register(message: type[M]) -> type[M]:
        _register(Route(_tag(message), message, command, convert))
        return message

    return register


def room_message(command: type[c.Command]) -> type[Msg]:
    """Declare the message that is ``command``: its struct is the command's fields but ``actor``
    (same types, limits and defaults), and it converts by copying them and stamping the actor."""
    if command.wire is None:
        raise TypeError(f"{command.__name__} has no wire name: it is a system command")
    hints = get_type_hints(command, include_extras=True)
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for field in msgspec.structs.fields(command):
        if field.name == "actor":
            continue
        if field.default is not msgspec.NODEFAULT:
            fields.append((field.name, hints[field.name], field.default))
        elif field.default_factory is not msgspec.NODEFAULT:
            factory = msgspec.field(default_factory=field.default_factory)
            fields.append((field.name, hints[field.name], factory))
        else:
            fields.append((field.name, hints[field.name]))
    message: type[Msg] = msgspec.defstruct(  # type: ignore[assignment]  # defstruct says Struct
        f"{command.__name__}Msg", fields, bases=(Msg,), tag=command.wire, frozen=True, kw_only=True,
        module=__name__,
    )  # fmt: skip
    _register(Route(command.wire, message, command, _copier(command, [name for name, *_ in fields])))
    return message


def _copier(command: type[c.Command], names: list[str]) -> Convert:
    """``lambda m, a: command(actor=a, name=m.name, ...)``, written for ``command``'s fields as
    dataclasses and namedtuple write their ``__init__``: a generic copy (a dict of the fields,
    then ``**``) made ``to_command`` 3-4 times slower, ≈ 1 µs more per message on the path that
    costs ≈ 5 µs in all (docs/performance.md). The names are the command's own field names."""
    assert all(name.isidentifier() for name in names)
    copies = "".join(f", {name}=m.{name}" for name in names)
    convert: Convert = eval(f"lambda m, a: command(actor=a{copies})", {"command": command})
    return convert


# Server-level messages


@server_message
class JoinMsg(Msg, frozen=True, kw_only=True, tag="join"):
    token: Annotated[str, Meta(max_length=4096)]
    name: str | None = None
    agree: bool = False
    resume: Annotated[str, Meta(max_length=4096)] | None = None
    device: Annotated[str, Meta(min_length=1, max_length=128)] | None = None


# Signal data: exactly the shapes the page (static/js/negotiation.js, rtc.js) and the Python
# peers (server/peers) send. Optional fields are UNSET when absent, so a relayed signal keeps
# the fields the sender wrote, and only those. The length caps below are hard ceilings; the
# configurable, lower ones are checked in ``server.signals``.
ConnectionTag = Annotated[str, Meta(min_length=1, max_length=64)]
Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class SessionDescription(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An ``RTCSessionDescriptionInit`` (``RTCSessionDescription.toJSON()``)."""

    type: Literal["offer", "answer", "pranswer", "rollback"]
    sdp: str


class IceCandidate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An ``RTCIceCandidateInit`` (``RTCIceCandidate.toJSON()``); an empty ``candidate`` is the end
    of candidates."""

    candidate: str
    sdpMid: Annotated[str, Meta(max_length=64)] | Unset | None = UNSET
    sdpMLineIndex: Annotated[int, Meta(ge=0, le=65535)] | Unset | None = UNSET
    usernameFragment: Annotated[str, Meta(max_length=256)] | Unset | None = UNSET


class SignalData(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One of ``description``, ``candidate`` (null: end of candidates) or ``hello: true``, with the
    optional connection tags ``pc`` and ``peer_pc`` (docs/client.md, "Connection tags")."""

    description: SessionDescription | Unset = UNSET
    candidate: IceCandidate | Unset | None = UNSET
    hello: Literal[True] | Unset = UNSET
    pc: ConnectionTag | Unset | None = UNSET
    peer_pc: ConnectionTag | Unset | None = UNSET

    def __post_init__(self) -> None:
        given = (self.description is not UNSET) + (self.candidate is not UNSET) + (self.hello is not UNSET)
        if given != 1:
            raise ValueError("a signal carries exactly one of 'description', 'candidate' or 'hello'")


@server_message
class SignalMsg(Msg, frozen=True, kw_only=True, tag="signal"):
    to: Target
    data: SignalData


@server_message
class SyncMsg(Msg, frozen=True, kw_only=True, tag="sync"):
    pass


# SFU mode (server.sfu): the media server's side of a participant's two connections travels on
# the Hearth socket, never from the browser to the media server's API (docs/protocol.md).
SfuConnection = Literal["pub", "sub"]


@server_message
class SfuMsg(Msg, frozen=True, kw_only=True, tag="sfu"):
    """To the media server: ``description`` (the publishing connection's offer, or the answer
    to the server's latest subscriber offer) or ``candidate`` (null: end of candidates)."""

    pc: SfuConnection
    description: SessionDescription | Unset = UNSET
    candidate: IceCandidate | Unset | None = UNSET

    def __post_init__(self) -> None:
        if (self.description is UNSET) == (self.candidate is UNSET):
            raise ValueError("an sfu message carries exactly one of 'description' or 'candidate'")


@server_message
class SfuViewMsg(Msg, frozen=True, kw_only=True, tag="sfu_view"):
    """Whom this participant wants to see large (received at the high simulcast layer)."""

    pin: Target | None = None


@server_message
class PingMsg(Msg, frozen=True, kw_only=True, tag="ping"):
    pass


@server_message
class ChatHistoryMsg(Msg, frozen=True, kw_only=True, tag="chat_history"):
    """Older chat, a page at a time: messages before ``before`` (a message id), at most
    ``limit`` (the server caps it at ``welcome.limits.chat_page``)."""

    before: Target | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] | None = None


# Room messages whose wire shape differs from their command


def chat_message_id() -> str:
    """A fresh chat message id: random, so the ids a member sees are not a sequence with gaps
    where private messages were (64 bits: a collision within one session is not a concern)."""
    return "m" + secrets.token_hex(8)


def _chat(m: ChatMsg, a: str) -> c.Chat:
    # The id is the server's; the chat caps are added by the server's handler. ``to`` is
    # "facilitators" (participant ids start with "p" or "s", so none is that word) or the id of
    # one participant (a private reply).
    if m.to == "facilitators":
        return c.Chat(actor=a, text=m.text, message_id=chat_message_id(), to_facilitators=True)
    return c.Chat(actor=a, text=m.text, message_id=chat_message_id(), to=m.to)


@special_message(c.Chat, _chat)
class ChatMsg(Msg, frozen=True, kw_only=True, tag="chat"):
    text: str
    to: Target | None = None


def _ask_help(m: AskHelpMsg, a: str) -> c.AskHelp:
    # Its chat line's id is the server's, as for chat; the caps are added by the server's handler.
    return c.AskHelp(actor=a, text=m.text, message_id=chat_message_id())


@special_message(c.AskHelp, _ask_help)
class AskHelpMsg(Msg, frozen=True, kw_only=True, tag="ask_help"):
    text: str


TurnSeconds = Annotated[int, Meta(ge=TURN_SECONDS_MIN, le=TURN_SECONDS_MAX)]  # as a room's own


def _set_floor(m: SetFloorMsg, a: str) -> c.SetFloor:
    # An absent ``turn_seconds`` keeps the timer; an explicit null removes it.
    explicit = m.turn_seconds is not msgspec.UNSET
    turn = None if isinstance(m.turn_seconds, msgspec.UnsetType) else m.turn_seconds
    order = tuple(m.order) if m.order is not None else None
    return c.SetFloor(actor=a, mode=m.mode, turn_seconds=turn, set_turn_seconds=explicit, order=order)


@special_message(c.SetFloor, _set_floor)
class SetFloorMsg(Msg, frozen=True, kw_only=True, tag="set_floor"):
    mode: FloorMode
    turn_seconds: TurnSeconds | msgspec.UnsetType | None = msgspec.UNSET
    order: Annotated[list[Target], Meta(max_length=500)] | None = None


# Every other client command (a ``wire`` name, no hand-written message above) is its own message,
# in the order rooms/commands.py declares them.
for _command in vars(c).values():
    is_command = isinstance(_command, type) and issubclass(_command, c.Command)
    if is_command and _command.wire is not None and _command.wire not in ROUTES:
        room_message(_command)

CLIENT_MESSAGES: Any = functools.reduce(operator.or_, (route.message for route in ROUTES.values()))
"""The tagged union the decoder reads in one pass, derived from ``ROUTES``."""

KNOWN_TYPES = frozenset(ROUTES)


class ProtocolError(Exception):
    """A message that cannot be used; ``kind`` is its ``type`` when that much was readable."""

    def __init__(self, code: ErrorCode, message: str, ref: Id | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref
        self.kind = kind


class _Envelope(msgspec.Struct):
    type: Any = None
    id: Any = None


_decoder = msgspec.json.Decoder(CLIENT_MESSAGES)
_envelope = msgspec.json.Decoder(_Envelope)

MAX_DEPTH = 16
"""How deeply arrays and objects may nest in a client message, the message's own object counted
as level 1. msgspec decodes nesting by recursion and gives up with ``RecursionError`` wherever the
interpreter's stack runs out (near 1000 levels, less inside deeper calls), and a value it did
decode into an ``Any`` field would be re-encoded for every receiver; no documented message nests
beyond 4 levels. So every message is held to one fixed, explicit bound."""

TOO_DEEP = f"arrays and objects may nest at most {MAX_DEPTH} levels"


def _open_fields(kind: type[Msg]) -> tuple[str, ...]:
    """The fields of ``kind`` whose type lets arbitrary JSON through (``Any`` anywhere in it)."""

    def has_any(node: msgspec.inspect.Type, seen: set[int]) -> bool:
        if isinstance(node, msgspec.inspect.AnyType):
            return True
        if id(node) in seen or isinstance(node, msgspec.inspect.StructType):
            return False  # a nested struct's own fields are typed (none is used today)
        seen.add(id(node))
        children: list[msgspec.inspect.Type] = []
        for name in ("item_type", "key_type", "value_type", "types", "item_types"):
            child = getattr(node, name, None)
            if isinstance(child, tuple):
                children += child
            elif isinstance(child, msgspec.inspect.Type):
                children.append(child)
        return any(has_any(child, seen) for child in children)

    info = msgspec.inspect.type_info(kind)
    assert isinstance(info, msgspec.inspect.StructType)
    return tuple(f.name for f in info.fields if has_any(f.type, set()))


# Message type -> its fields that can hold arbitrary JSON, whose depth ``decode`` checks.
_OPEN_FIELDS = {kind: names for kind in _BY_MESSAGE if (names := _open_fields(kind))}


def _deeper_than(value: object, limit: int) -> bool:
    """Whether ``value`` nests arrays/objects more than ``limit`` levels (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children)
    return False


def decode(text: str | bytes) -> ClientMessage:
    """Text -> typed message, or ``ProtocolError`` naming what is wrong (never echoing content)."""
    try:
        msg: ClientMessage = _decoder.decode(text)
    except RecursionError:
        # Nested deeper than the stack allows: neither the message nor its id can be read.
        raise ProtocolError(ErrorCode.BAD_MESSAGE, TOO_DEEP) from None
    except msgspec.ValidationError as exc:
        ref = _ref_of(text)
        kind = _type_of(text)
        if not isinstance(kind, str):
            raise ProtocolError(ErrorCode.BAD_MESSAGE, "every message needs a string 'type'", ref) from None
        if kind not in KNOWN_TYPES:
            raise ProtocolError(ErrorCode.UNKNOWN_TYPE, "unknown message type", ref) from None
        raise ProtocolError(ErrorCode.BAD_MESSAGE, f"invalid {kind}: {_where(exc)}", ref, kind) from None
    except msgspec.DecodeError:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "a message must be one JSON object") from None
    for name in _OPEN_FIELDS.get(type(msg), ()):
        if _deeper_than(getattr(msg, name), MAX_DEPTH - 1):  # the message's object is level 1
            kind = str(type(msg).__struct_config__.tag)
            raise ProtocolError(ErrorCode.BAD_MESSAGE, f"invalid {kind}: {TOO_DEEP}", msg.id, kind)
    return msg


def _ref_of(text: str | bytes) -> Id | None:
    try:
        ref = _envelope.decode(text).id
    except (msgspec.MsgspecError, RecursionError):
        return None
    return ref if isinstance(ref, str | int) and not isinstance(ref, bool) else None


def _type_of(text: str | bytes) -> object:
    try:
        return _envelope.decode(text).type
    except (msgspec.MsgspecError, RecursionError):
        return None


def _where(exc: msgspec.ValidationError) -> str:
    # msgspec says e.g. "Expected `bool`, got `str` - at `$.agree`": types and paths, no values.
    return str(exc).replace("`", "'")


def printable_name(name: str, max_chars: int) -> str:
    """Display names: 1..max printable characters after trimming, something visible, no
    direction or stray invisible characters (``rooms.text.clean_name``); raises ProtocolError."""
    try:
        return text_rules.clean_name(name, max_chars)
    except text_rules.TextRefused as refused:
        raise ProtocolError(ErrorCode.BAD_MESSAGE, str(refused)) from None


# Client message -> engine command ----------------------------------------------------------------


def to_command(msg: ClientMessage, actor: str) -> c.Command:
    """Stamp the authenticated actor on a room command. Raises KeyError for non-room messages."""
    convert = _BY_MESSAGE[type(msg)].convert
    if convert is None:
        raise KeyError(_tag(type(msg)))
    return convert(msg, actor)


# Server-only frames ---------------------------------------------------------------------------

SERVER_FRAMES = frozenset({"welcome", "snapshot", "chat_history", "signal", "sfu", "ack", "error", "pong"})
"""The frames the server writes itself; every other server message is a room event
(``rooms.events``). docs/protocol.md §3 lists both (tests/server/test_registry.py checks it)."""

_encoder = msgspec.json.Encoder()


def encode(obj: object) -> bytes:
    return _encoder.encode(obj)


def ack(ref: Id) -> bytes:
    return _encoder.encode({"type": "ack", "ref": ref})


def error(code: ErrorCode, message: str, ref: Id | None = None) -> bytes:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if ref is not None:
        frame["ref"] = ref
    return _encoder.encode(frame)


PONG = b'{"type":"pong"}'

"""The wire codec: typed client messages, validation, and the frames only the server writes.

msgspec was chosen over pydantic: it decodes JSON straight into typed structs with a tagged
union on ``type`` in one pass (no intermediate dict), enforces length limits while decoding, and
encodes the same structs the engine emits, several times faster than pydantic v2 on small
messages. The socket loop only moves text; this module turns text into commands.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from rooms import commands as c
from rooms import text as text_rules
from rooms.codes import ErrorCode
from rooms.limits import TURN_SECONDS_MAX, TURN_SECONDS_MIN
from rooms.model import FloorMode

Id = str | int
Target = Annotated[str, Meta(min_length=1, max_length=64)]


class Msg(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", forbid_unknown_fields=False):
    id: Id | None = None


class JoinMsg(Msg, frozen=True, kw_only=True, tag="join"):
    token: Annotated[str, Meta(max_length=4096)]
    name: str | None = None
    agree: bool = False
    resume: Annotated[str, Meta(max_length=4096)] | None = None
    device: Annotated[str, Meta(min_length=1, max_length=128)] | None = None


class LeaveMsg(Msg, frozen=True, kw_only=True, tag="leave"):
    pass


class ChatMsg(Msg, frozen=True, kw_only=True, tag="chat"):
    text: str
    to: Literal["facilitators"] | None = None


class ReactMsg(Msg, frozen=True, kw_only=True, tag="react"):
    emoji: Annotated[str, Meta(max_length=16)]


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


class SignalMsg(Msg, frozen=True, kw_only=True, tag="signal"):
    to: Target
    data: SignalData


class MediaMsg(Msg, frozen=True, kw_only=True, tag="media"):
    audio: bool
    video: bool


class HandMsg(Msg, frozen=True, kw_only=True, tag="hand"):
    raised: bool


class PassMsg(Msg, frozen=True, kw_only=True, tag="pass"):
    pass


class AwayMsg(Msg, frozen=True, kw_only=True, tag="away"):
    away: bool


class SyncMsg(Msg, frozen=True, kw_only=True, tag="sync"):
    pass


class PingMsg(Msg, frozen=True, kw_only=True, tag="ping"):
    pass


class ChatHistoryMsg(Msg, frozen=True, kw_only=True, tag="chat_history"):
    """Older chat, a page at a time: messages before ``before`` (a message id), at most
    ``limit`` (the server caps it at ``welcome.limits.chat_page``)."""

    before: Target | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] | None = None


class MuteMsg(Msg, frozen=True, kw_only=True, tag="mute"):
    target: Target
    video: bool = False


class MuteAllMsg(Msg, frozen=True, kw_only=True, tag="mute_all"):
    pass


class AllowSpeakMsg(Msg, frozen=True, kw_only=True, tag="allow_speak"):
    target: Target


class GiveFloorMsg(Msg, frozen=True, kw_only=True, tag="give_floor"):
    target: Target


class NextFloorMsg(Msg, frozen=True, kw_only=True, tag="next_floor"):
    pass


class EndFloorMsg(Msg, frozen=True, kw_only=True, tag="end_floor"):
    pass


TurnSeconds = Annotated[int, Meta(ge=TURN_SECONDS_MIN, le=TURN_SECONDS_MAX)]  # as a room's own


class SetFloorMsg(Msg, frozen=True, kw_only=True, tag="set_floor"):
    mode: FloorMode
    turn_seconds: TurnSeconds | msgspec.UnsetType | None = msgspec.UNSET
    order: Annotated[list[Target], Meta(max_length=500)] | None = None


class LowerHandMsg(Msg, frozen=True, kw_only=True, tag="lower_hand"):
    target: Target


class LowerAllHandsMsg(Msg, frozen=True, kw_only=True, tag="lower_all_hands"):
    pass


class AdmitMsg(Msg, frozen=True, kw_only=True, tag="admit"):
    target: Target


class AdmitAllMsg(Msg, frozen=True, kw_only=True, tag="admit_all"):
    pass


class DenyAllMsg(Msg, frozen=True, kw_only=True, tag="deny_all"):
    pass


class DenyMsg(Msg, frozen=True, kw_only=True, tag="deny"):
    target: Target


class LockMsg(Msg, frozen=True, kw_only=True, tag="lock"):
    locked: bool


class RemoveMsg(Msg, frozen=True, kw_only=True, tag="remove"):
    target: Target
    ban: bool = False


class DeleteChatMsg(Msg, frozen=True, kw_only=True, tag="delete_chat"):
    message_id: Target


class EndSessionMsg(Msg, frozen=True, kw_only=True, tag="end_session"):
    pass


ClientMessage = (
    JoinMsg | LeaveMsg | ChatMsg | ReactMsg | SignalMsg | MediaMsg | HandMsg | PassMsg | AwayMsg
    | SyncMsg | PingMsg | MuteMsg | MuteAllMsg | AllowSpeakMsg | GiveFloorMsg | NextFloorMsg
    | EndFloorMsg | SetFloorMsg | LowerHandMsg | LowerAllHandsMsg | AdmitMsg | AdmitAllMsg | DenyMsg
    | DenyAllMsg | LockMsg | RemoveMsg | DeleteChatMsg | EndSessionMsg | ChatHistoryMsg
)  # fmt: skip

KNOWN_TYPES = frozenset(str(m.__struct_config__.tag) for m in ClientMessage.__args__)


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


_decoder = msgspec.json.Decoder(ClientMessage)
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
_OPEN_FIELDS = {kind: names for kind in ClientMessage.__args__ if (names := _open_fields(kind))}


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
    command: c.Command = _COMMANDS[type(msg)](msg, actor)
    return command


def chat_message_id() -> str:
    """A fresh chat message id: random, so the ids a member sees are not a sequence with gaps
    where private messages were (64 bits: a collision within one session is not a concern)."""
    return "m" + secrets.token_hex(8)


def _set_floor(m: SetFloorMsg, a: str) -> c.SetFloor:
    explicit = m.turn_seconds is not msgspec.UNSET
    turn = None if isinstance(m.turn_seconds, msgspec.UnsetType) else m.turn_seconds
    order = tuple(m.order) if m.order is not None else None
    return c.SetFloor(actor=a, mode=m.mode, turn_seconds=turn, set_turn_seconds=explicit, order=order)


_COMMANDS: dict[type[Msg], Any] = {
    LeaveMsg: lambda m, a: c.Leave(actor=a),
    ChatMsg: lambda m, a: c.Chat(
        actor=a, text=m.text, message_id=chat_message_id(), to_facilitators=m.to == "facilitators"
    ),
    ReactMsg: lambda m, a: c.React(actor=a, emoji=m.emoji),
    MediaMsg: lambda m, a: c.Media(actor=a, audio=m.audio, video=m.video),
    HandMsg: lambda m, a: c.Hand(actor=a, raised=m.raised),
    PassMsg: lambda m, a: c.Pass(actor=a),
    AwayMsg: lambda m, a: c.Away(actor=a, away=m.away),
    MuteMsg: lambda m, a: c.Mute(actor=a, target=m.target, video=m.video),
    MuteAllMsg: lambda m, a: c.MuteAll(actor=a),
    AllowSpeakMsg: lambda m, a: c.AllowSpeak(actor=a, target=m.target),
    GiveFloorMsg: lambda m, a: c.GiveFloor(actor=a, target=m.target),
    NextFloorMsg: lambda m, a: c.NextFloor(actor=a),
    EndFloorMsg: lambda m, a: c.EndFloor(actor=a),
    SetFloorMsg: _set_floor,
    LowerHandMsg: lambda m, a: c.LowerHand(actor=a, target=m.target),
    LowerAllHandsMsg: lambda m, a: c.LowerAllHands(actor=a),
    AdmitMsg: lambda m, a: c.Admit(actor=a, target=m.target),
    AdmitAllMsg: lambda m, a: c.AdmitAll(actor=a),
    DenyMsg: lambda m, a: c.Deny(actor=a, target=m.target),
    DenyAllMsg: lambda m, a: c.DenyAll(actor=a),
    LockMsg: lambda m, a: c.Lock(actor=a, locked=m.locked),
    RemoveMsg: lambda m, a: c.Remove(actor=a, target=m.target, ban=m.ban),
    DeleteChatMsg: lambda m, a: c.DeleteChat(actor=a, message_id=m.message_id),
    EndSessionMsg: lambda m, a: c.EndSession(actor=a),
}


# Server-only frames ---------------------------------------------------------------------------

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

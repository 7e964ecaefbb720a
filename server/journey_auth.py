"""What every route of the journey API shares: who asks, their rate, bounded strict bodies, the
session number, and the live notice (docs/journey.md, docs/protocol.md §12).

Who asks comes only from the bearer token (the link's): a facilitator link of the current
facilitator version; a member's personal link on the roster (``server.personal_links``); or a
shared member link, which reads the board and the group's summaries and nothing about a person.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from rooms.backends.base import StoreUnavailable
from rooms.backends.journey_base import JourneyStore
from rooms.codes import ErrorCode
from rooms.commands import JourneyNotice
from rooms.errors import CommandError
from rooms.journey.limits import ANSWER_BYTES_PER_TOKEN, BODY_MAX_BYTES, RATE_BURST, RATE_PER_SECOND
from rooms.journey.model import Member
from rooms.journey.rules import Refused
from rooms.journey.visibility import Viewer
from rooms.model import RoomConfig, SessionState
from rooms.permissions import Capability
from rooms.service import RoomNotFound
from server import tokens
from server.echo import link_tag
from server.http_common import BodyTooLarge, api_error, bearer, limited_body, node_of
from server.node import Node
from server.personal_links import LinkRefused, link_member
from server.ratelimit import TokenBucket

B = TypeVar("B")
NO_STORE = {"cache-control": "no-store"}
PERSONAL = "this needs a personal link: ask your facilitator for one to keep your goals and check-ins"
FACILITATOR_LINK = (
    "a facilitator link keeps no plans, cards or data of its own: that needs a member's personal link"
)
BUCKETS_MAX = 10_000  # links with a recent request; past it, idle (full) buckets are forgotten


class Problem(Exception):
    """An API refusal raised anywhere in a route; the route answers it as an error."""

    def __init__(self, status: int, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True, slots=True)
class Who:
    """Who asks, for which room: the viewer (role, and ``sub`` for a personal link on the
    roster), their roster entry, and the room's definition."""

    node: Node
    config: RoomConfig
    viewer: Viewer
    member: Member | None

    @property
    def journey(self) -> JourneyStore:
        return self.node.journey

    @property
    def room(self) -> str:
        return self.config.id

    def need(self, capability: Capability) -> None:
        if not self.viewer.can(capability):
            raise Problem(403, ErrorCode.FORBIDDEN, f"only a facilitator may do this ({capability})")

    def personal(self) -> str:
        """The asker's ``sub``: things about a person need a personal link."""
        self.need(Capability.KEEP_JOURNEY)
        if self.viewer.sub is None:
            why = PERSONAL if not self.viewer.can(Capability.MANAGE_MEMBERS) else FACILITATOR_LINK
            raise Problem(403, ErrorCode.PERSONAL_LINK_REQUIRED, why)
        return self.viewer.sub


class Rates:
    """A token bucket per link (a tag of its token), on this node: one member hammering the API
    waits (429) without slowing anyone else. Bounded: idle buckets are forgotten."""

    def __init__(self) -> None:
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= BUCKETS_MAX:
                self._forget_idle()
            bucket = self._buckets[key] = TokenBucket(RATE_PER_SECOND, RATE_BURST)
        return bucket.take()

    def charge(self, key: str, cost: float) -> None:
        """Charge a link for an answer by its size, once it is built (a token per whole
        ``ANSWER_BYTES_PER_TOKEN``, so small answers cost only their request):
        a full board costs some twenty requests, so fetching it in a loop is slow for the one who
        does it, and cheap for the node."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.charge(cost)

    def _forget_idle(self) -> None:
        for key, bucket in list(self._buckets.items()):
            bucket.take(0.0)  # refills it
            if bucket.tokens >= bucket.burst:
                del self._buckets[key]
        if len(self._buckets) >= BUCKETS_MAX:
            self._buckets.clear()


def _rates(request: Request) -> Rates:
    state = request.app.state
    rates: Rates | None = getattr(state, "journey_rates", None)
    if rates is None:
        rates = state.journey_rates = Rates()
    return rates


async def who(request: Request) -> Who:
    node = node_of(request)
    room_id = request.path_params["room_id"]
    token = bearer(request) or ""
    if not _rates(request).take(link_tag(token)):
        raise Problem(429, ErrorCode.RATE_LIMITED, "too many requests; slow down a little")
    try:
        claims = tokens.verify_invite(node.settings.secret, token)
    except tokens.TokenError:
        raise Problem(401, ErrorCode.UNAUTHORIZED, "a valid link of this room is required") from None
    if claims.room != room_id:
        raise Problem(403, ErrorCode.FORBIDDEN, "this link is for another room")
    try:
        config = await node.service.current_config(room_id)
    except RoomNotFound:
        raise Problem(404, ErrorCode.NOT_FOUND, "no such room") from None
    try:
        member = await link_member(node.journey, claims, config)
    except LinkRefused as refused:
        raise Problem(refused.status, refused.code, refused.message) from None
    viewer = Viewer(claims.role, member.sub if member is not None else None)
    return Who(node, config, viewer, member)


Handler = Callable[[Request, Who], Awaitable[Response]]


def route(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A journey route: resolves who asks, and answers every ``Problem`` and an unreachable
    store as errors."""

    async def endpoint(request: Request) -> Response:
        try:
            response = await handler(request, await who(request))
            _rates(request).charge(
                link_tag(bearer(request) or ""), len(response.body) // ANSWER_BYTES_PER_TOKEN
            )
            return response
        except Problem as problem:
            response = api_error(problem.status, problem.code, problem.message)
            if problem.status == 429:
                response.headers["retry-after"] = "1"
            return response
        except StoreUnavailable:
            return api_error(
                503, ErrorCode.UNAVAILABLE, "the journey store is unavailable; try again shortly"
            )

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


async def body(request: Request, kind: type[B]) -> B:
    """The request's JSON body as ``kind`` (a strict struct): at most ``BODY_MAX_BYTES``."""
    try:
        raw = await limited_body(request, BODY_MAX_BYTES)
    except BodyTooLarge:
        raise Problem(413, ErrorCode.TOO_LARGE, f"the body is larger than {BODY_MAX_BYTES} bytes") from None
    except ClientDisconnect:
        raise Problem(400, ErrorCode.BAD_MESSAGE, "the body was cut short") from None
    try:
        return msgspec.json.decode(raw, type=kind)
    except RecursionError:
        raise Problem(400, ErrorCode.BAD_MESSAGE, "the body nests too deeply") from None
    except msgspec.ValidationError as exc:
        raise Problem(400, ErrorCode.BAD_MESSAGE, str(exc).replace("`", "'")) from None
    except msgspec.DecodeError:
        raise Problem(400, ErrorCode.BAD_MESSAGE, "the body must be a JSON object") from None


def refused(exc: Refused) -> Problem:
    return Problem(400, ErrorCode.BAD_MESSAGE, str(exc))


def answer(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers={**NO_STORE, **(headers or {})})


async def session(who: Who) -> tuple[int, bool]:
    """(the session's number, whether it is live): the live session's, or between sessions the
    next one's (the last numbered one + 1)."""
    state = await who.node.service.state(who.room, with_chat=False)
    if state is not None and state.session is SessionState.LIVE and state.session_id is not None:
        return await who.journey.session_number(who.room, state.session_id), True
    return await who.journey.last_session_number(who.room) + 1, False


async def notify(who: Who, what: str) -> None:
    """Tell a live session's participants that ``what`` changed (``journey_changed``); nothing
    between sessions (the engine refuses a notice without a live session)."""
    state = await who.node.service.state(who.room, with_chat=False)
    if state is None or state.session is not SessionState.LIVE:
        return
    with contextlib.suppress(CommandError, StoreUnavailable, RoomNotFound):
        await who.node.service.execute(who.room, JourneyNotice(what=what))


def now() -> float:
    return time.time()

"""What the Redis backends share: key names, the client factory, the ``Envelope``, errors.

Every key starts with ``hearth:``:

- ``hearth:rooms``: hash, room id -> JSON of ``RoomConfig`` (the directory).
- ``hearth:live:{room}``: msgpack of ``RoomState`` with a TTL, its chat as the number of entries;
  ``hearth:chat:{room}``: list, the msgpack of each chat message of the session in order (an
  empty entry for a deleted one), with the same TTL; ``hearth:live-rooms``: set of ids.
- ``hearth:room:{room}``: pub/sub channel of a room; ``hearth:node:{node}``: channel of a node.
- ``hearth:presence:{room}``: hash, ``participant/connection`` -> node id (one field per socket),
  with a TTL; ``hearth:alive:{node}``:
  TTL key.

``hearth:rooms`` lives in the store (persisted); every other key and both channel kinds live in
the live store, which persists nothing (the same server unless ``HEARTH_LIVE_STORE`` names another).

One Redis server (or a Sentinel-managed primary) is assumed: a transaction writes a room's key
and the shared ``hearth:live-rooms`` set, which Redis Cluster would refuse (different slots).

Retries and backoff live in the backend classes, never in the driver: clients made by
``client_from_url`` have redis-py's own retries turned off and short socket timeouts, so an outage
surfaces within about two seconds as ``StoreUnavailable`` instead of hanging.
"""

from __future__ import annotations

import msgspec
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from rooms.backends.base import Frame, StoreUnavailable

PREFIX = "hearth:"
ROOMS_KEY = PREFIX + "rooms"
LIVE_ROOMS_KEY = PREFIX + "live-rooms"

# The errors that mean "Redis cannot be reached now", as opposed to a bug or a refused command.
UNREACHABLE: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError, OSError)


def live_key(room_id: str) -> str:
    return f"{PREFIX}live:{room_id}"


def chat_key(room_id: str) -> str:
    return f"{PREFIX}chat:{room_id}"


def room_channel(room_id: str) -> str:
    return f"{PREFIX}room:{room_id}"


def node_channel(node_id: str) -> str:
    return f"{PREFIX}node:{node_id}"


def presence_key(room_id: str) -> str:
    return f"{PREFIX}presence:{room_id}"


def alive_key(node_id: str) -> str:
    return f"{PREFIX}alive:{node_id}"


def client_from_url(
    url: str,
    *,
    socket_timeout: float = 2.0,
    connect_timeout: float = 1.0,
    health_check_interval: int = 0,
) -> Redis:
    """A client whose failures are prompt and unretried: the backends decide what to retry.

    The caller owns the client and closes it (``await client.aclose()``); ``RedisDirectory``,
    ``RedisLiveStore`` and ``RedisPresence`` share one and never close it.
    """
    client: Redis = Redis.from_url(
        url,
        decode_responses=False,
        socket_timeout=socket_timeout,
        socket_connect_timeout=connect_timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=health_check_interval,
    )
    return client


class Envelope(msgspec.Struct, frozen=True, array_like=True):
    """One pub/sub message: the frames of one change (or one relay), in order.

    ``origin``: the node that published it, for logs and metrics. ``room``: whose local handlers
    receive the frames, also on a node channel."""

    origin: str
    room: str
    frames: list[Frame]


_envelope_encoder = msgspec.msgpack.Encoder()
envelope_decoder = msgspec.msgpack.Decoder(Envelope)


def encode_envelope(origin: str, room_id: str, frames: list[Frame]) -> bytes:
    return _envelope_encoder.encode(Envelope(origin, room_id, frames))


def unavailable(exc: BaseException) -> StoreUnavailable:
    """The error the rest of Hearth sees; it names the cause's type, never its content."""
    return StoreUnavailable(f"redis unreachable ({type(exc).__name__})")


async def expire_all(client: Redis, keys: list[str], ttl_ms: int) -> None:
    """Push the expiry of ``keys`` ``ttl_ms`` into the future (one round trip)."""
    if not keys:
        return
    try:
        async with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.pexpire(key, ttl_ms)
            await pipe.execute()
    except UNREACHABLE as exc:
        raise unavailable(exc) from exc


async def ping(client: Redis) -> bool:
    """True when Redis answers; never raises."""
    try:
        return bool(await client.ping())
    except Exception:
        return False

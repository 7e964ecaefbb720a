"""Presence on Redis: which node holds each socket of a participant, and which nodes are alive."""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis

from rooms.backends.redis_common import UNREACHABLE, alive_key, expire_all, presence_key, unavailable

# Presence ------------------------------------------------------------------------------------

# HDEL only if the field still names this node: another node's entry is never removed.
_DETACH_OWN = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""


def socket_field(pid: str, conn: str) -> str:
    """The presence hash's field of one socket of ``pid``: ids never contain a slash."""
    return f"{pid}/{conn}"


class RedisPresence:
    """Which node holds each socket, and which nodes are alive.

    ``hearth:presence:{room}`` maps ``participant/connection`` -> node id, one field per socket:
    a socket still trying to take a seat writes its own field and cannot overwrite (or, when
    it goes, delete) the field of the socket the seat names. Each node calls ``heartbeat`` more
    often than ``alive_ttl``; when a node dies its ``hearth:alive:{node}`` key expires, and
    ``orphans`` then reports its seats so a surviving node can treat them as disconnected.
    A room's hash expires ``ttl_seconds`` after the last ``attach`` or ``touch``: nodes touch the
    rooms they hold, so entries a dead node left behind go with the room's last socket.
    Unreachable Redis raises ``StoreUnavailable``.
    """

    def __init__(
        self, client: Redis, node_id: str, alive_ttl: float = 6.0, ttl_seconds: float = 60.0
    ) -> None:
        self.node_id = node_id
        self.alive_ttl = alive_ttl
        self.ttl_ms = max(1, round(ttl_seconds * 1000))
        self._client = client
        self._detach = client.register_script(_DETACH_OWN)

    async def heartbeat(self) -> None:
        try:
            await self._client.set(alive_key(self.node_id), b"1", px=max(1, round(self.alive_ttl * 1000)))
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc

    async def attach(self, room_id: str, pid: str, conn: str) -> None:
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hset(presence_key(room_id), socket_field(pid, conn), self.node_id)
                pipe.pexpire(presence_key(room_id), self.ttl_ms)
                await pipe.execute()
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc

    async def touch(self, room_ids: list[str]) -> None:
        """Push the expiry of these rooms' hashes ``ttl_seconds`` into the future."""
        await expire_all(self._client, [presence_key(room_id) for room_id in room_ids], self.ttl_ms)

    async def detach(self, room_id: str, pid: str, conn: str) -> None:
        try:
            await self._detach(keys=[presence_key(room_id)], args=[socket_field(pid, conn), self.node_id])
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc

    async def where(self, room_id: str, pid: str, conn: str) -> str | None:
        try:
            field = socket_field(pid, conn)
            node = cast("bytes | None", await self._client.hget(presence_key(room_id), field))
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        return None if node is None else node.decode()

    async def orphans(self, room_id: str, seats: list[tuple[str, str]]) -> list[str]:
        """Of ``seats``, the participants no node holds: no entry for the socket their seat names,
        or its node's alive key is gone."""
        if not seats:
            return []
        fields = [socket_field(pid, conn) for pid, conn in seats]
        try:
            nodes = cast("list[bytes | None]", await self._client.hmget(presence_key(room_id), fields))
            known = sorted({node for node in nodes if node is not None})
            keys = [alive_key(node.decode()) for node in known]
            alive_flags = cast("list[bytes | None]", await self._client.mget(keys)) if keys else []
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        alive = {node for node, flag in zip(known, alive_flags, strict=True) if flag is not None}
        return [pid for (pid, _), node in zip(seats, nodes, strict=True) if node is None or node not in alive]

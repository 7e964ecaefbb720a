"""``HearthPeer``: a Hearth participant in Python with aiortc media, meshing with browsers.

It joins by invite link, keeps the room state from ``welcome`` and events (``sync`` on a ``seq``
gap), connects to every other admitted participant like the browser (``mesh.py``,
``negotiation.py``), sends a synthetic camera and microphone or a file (``media.py``) and counts
what it receives per participant (``receive.py``).

Floor and mute rules, like a browser: the microphone sends sound only while this participant
wants it on and the server says ``audio`` and ``can_speak``; otherwise it sends silence (a
facilitator mute or a moving floor silences it in the handler of that very frame, and nothing
switches it on again by itself). The camera sends black while the server says ``video: false``.
Nobody is played; ``audible`` records whose sound a browser would play.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.peers.invite import Invite, invite_at, parse_link
from server.peers.media import LocalMedia
from server.peers.mesh import Mesh
from server.peers.receive import PeerStats, Receiver, RemoteMedia
from server.peers.sfu import SfuMedia
from server.peers.state import Order, RoomState

log = logging.getLogger("hearth.peers")

REQUEST_SECONDS = 5.0


class HearthError(Exception):
    """A refusal from the server (``code`` as in the protocol), or a connection that ended."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


async def until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.05) -> None:
    """Wait until ``check()`` is true; TimeoutError naming ``what`` after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(every)


class HearthPeer:
    def __init__(
        self,
        link: str | Invite,
        name: str = "Hearth bot",
        *,
        media: LocalMedia | None = None,
        speak: bool = True,
        accept: Callable[[str], bool] | None = None,
        token: str | None = None,
    ) -> None:
        """``link``: an invite link, or the server's base URL with ``token``.
        ``speak``: switch the microphone on when joining (when the floor allows it).
        ``accept``: connect only to participants whose id it accepts (default: everyone)."""
        if isinstance(link, Invite):
            self.invite = link
        else:
            self.invite = invite_at(link, token) if token is not None else parse_link(link)
        self.name = name
        self.media = media if media is not None else LocalMedia()
        self.wants_microphone = speak and self.media.audio
        self.receiver = Receiver()
        self.mesh = Mesh(self._send_signal, self.media, self.receiver, accept)
        self.sfu = SfuMedia(self._send_quietly, self.media, self.receiver)
        self.media_path = "mesh"  # welcome.media.path: "sfu" when media passes through Janus
        self.ws: ClientConnection | None = None
        self.reader: asyncio.Task[None] | None = None
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.next_id = 0
        self.welcome: dict[str, Any] | None = None
        self.welcomed = asyncio.Event()
        self.ended = asyncio.Event()
        self.state = RoomState()
        self.close_code: int | None = None
        self.join_latency: float | None = None  # seconds from sending join to the welcome
        self.joined_at: float | None = None  # event-loop time of the (last) welcome
        self.errors: list[dict[str, Any]] = []  # error frames nobody waited for
        self._join_sent_at = 0.0
        self._tasks: set[asyncio.Future[Any]] = set()

    @property
    def id(self) -> str:
        return self.state.id

    @property
    def you(self) -> dict[str, Any]:
        return self.state.you

    @property
    def participants(self) -> dict[str, dict[str, Any]]:
        return self.state.participants

    @property
    def floor(self) -> dict[str, Any]:
        return self.state.floor

    # Joining and leaving

    async def join(self, timeout: float = 10.0) -> dict[str, Any]:
        """Join and wait for the ``welcome`` (through the lobby, if a facilitator admits in time)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            self.ws = await connect(
                self.invite.ws_url, open_timeout=timeout, proxy=None, compression=None, close_timeout=2
            )
        except (OSError, TimeoutError, ValueError) as exc:
            raise HearthError("unreachable", f"cannot open {self.invite.ws_url}: {exc}") from exc
        except Exception as exc:  # a handshake the server refused (HTTP status)
            raise HearthError("unreachable", f"{self.invite.ws_url} refused the websocket: {exc}") from exc
        self.reader = asyncio.create_task(self._read(), name=f"hearth-peer-{self.name}")
        self._join_sent_at = loop.time()
        join = {"type": "join", "token": self.invite.token, "name": self.name, "agree": True}
        await self.request(join, timeout=max(0.1, deadline - loop.time()))
        try:
            await until(
                lambda: self.welcomed.is_set() or self.ended.is_set(), deadline - loop.time(), "welcome"
            )
        except TimeoutError:
            state = (self.state.lobby_state or "").replace("_", " ")
            raise HearthError("lobby", f"still in the lobby after {timeout:.0f} s ({state})") from None
        if self.welcome is None:  # denied in the lobby, or the session ended
            raise HearthError("closed", self.state.end_reason or f"the server closed ({self.close_code})")
        return self.welcome

    async def close(self) -> None:
        """Leave the room (when still in it) and close every connection."""
        if self.ws is not None and not self.ended.is_set():
            with contextlib.suppress(Exception):
                await self.request({"type": "leave"}, timeout=2.0)
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 3.0)
        running: list[asyncio.Future[Any]] = [*self._tasks, *([self.reader] if self.reader else [])]
        for task in running:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.mesh.close()
        await self.sfu.close()
        await self.receiver.close()
        self.media.stop()

    # Messages

    async def send(self, message: dict[str, Any]) -> None:
        if self.ws is None:
            raise HearthError("closed", "not connected")
        try:
            await self.ws.send(json.dumps(message))
        except ConnectionClosed as exc:
            raise HearthError("closed", f"the connection closed ({exc})") from exc

    async def request(self, message: dict[str, Any], timeout: float = REQUEST_SECONDS) -> dict[str, Any]:
        """Send with an ``id``: the ``ack``, or HearthError for an ``error``."""
        self.next_id += 1
        ref = self.next_id
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[ref] = answer
        try:
            await self.send({**message, "id": ref})
            return await asyncio.wait_for(answer, timeout)
        except TimeoutError:
            raise HearthError("timeout", f"no answer to {message.get('type')} in {timeout:g} s") from None
        finally:
            self.pending.pop(ref, None)
            if not answer.done():
                answer.cancel()  # never answered: nobody may leave an exception in it unread

    async def _send_signal(self, to: str, data: dict[str, Any]) -> None:
        with contextlib.suppress(HearthError):
            await self.send({"type": "signal", "to": to, "data": data})

    async def _send_quietly(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(HearthError):
            await self.send(message)

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                try:
                    frame = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(frame, dict):
                    self._receive(frame)
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.ended.set()
            reason = self.state.end_reason or f"the connection closed ({self.close_code})"
            for answer in self.pending.values():
                if not answer.done():
                    answer.set_exception(HearthError("closed", reason))
            for remote_id in list(self.mesh.links):
                self.mesh.close_link(remote_id)
            self.sfu.stop()

    def _receive(self, frame: dict[str, Any]) -> None:
        order = self.state.order(frame)
        if order is Order.SYNC:
            self._spawn(self.send({"type": "sync"}))
        if order is not Order.APPLY:
            return
        kind = frame.get("type")
        if kind in ("ack", "error"):
            self._on_answer(frame)
        elif kind == "welcome":
            self._on_welcome(frame)
        elif kind == "snapshot":
            self.state.load(frame)
            self._changed()
        elif kind == "signal":
            self.mesh.handle_signal(str(frame.get("from")), frame.get("data"))
        elif kind == "sfu":
            self.sfu.handle(frame)
        elif self.state.apply(frame):
            self._changed()

    def _spawn(self, job: Coroutine[Any, Any, Any]) -> None:
        """Run ``job`` on its own; a refusal or a closed connection is not an error here."""
        task = asyncio.ensure_future(job)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            if not isinstance(error, HearthError):
                log.warning("hearth: %s: %s", type(error).__name__, error)

    # Frame handlers

    def _on_answer(self, frame: dict[str, Any]) -> None:
        answer = self.pending.get(frame.get("ref", -1))
        if answer is None or answer.done():
            if frame.get("type") == "error":
                self.errors.append(frame)
                log.info("hearth: %s: %s", frame.get("code"), frame.get("message"))
        elif frame["type"] == "ack":
            answer.set_result(frame)
        else:
            answer.set_exception(HearthError(str(frame.get("code")), str(frame.get("message"))))

    def _on_welcome(self, frame: dict[str, Any]) -> None:
        self.state.load(frame)
        self.welcome = frame
        loop = asyncio.get_running_loop()
        self.joined_at = loop.time()
        if self.join_latency is None:
            self.join_latency = self.joined_at - self._join_sent_at
        media = frame.get("media")
        self.media_path = "sfu" if isinstance(media, dict) and media.get("path") == "sfu" else "mesh"
        ice_servers, policy = frame.get("ice_servers", []), str(frame.get("ice_transport_policy", "all"))
        self.mesh.reset(self.id, ice_servers, policy)
        if self.media_path == "sfu":
            self.sfu.reset(ice_servers, policy)
        self._changed()
        self.welcomed.set()
        speak = self.wants_microphone and bool(self.you.get("can_speak"))
        announce = {"type": "media", "audio": speak, "video": self.media.video}
        self._spawn(self.request(announce))

    def _changed(self) -> None:
        """After every change of the room: connections, then the floor and mute rules."""
        if self.media_path == "mesh":  # in SFU mode the server makes the connections' changes
            self.mesh.reconcile(self.state.participants.values())
        you = self.you
        self.media.microphone = bool(self.wants_microphone and you.get("audio") and you.get("can_speak"))
        self.media.camera = bool(you.get("video"))

    # Controls

    async def set_microphone(self, on: bool) -> None:
        """Switch the microphone like the browser's button: off at once, on only when the server
        agrees (HearthError ``not_allowed_to_speak`` otherwise)."""
        self.wants_microphone = on and self.media.audio
        if not on:
            self.media.microphone = False
        await self.request({"type": "media", "audio": on, "video": bool(self.you.get("video"))})
        self._changed()

    def refresh(self) -> None:
        """Apply the room state again (after changing who ``accept`` lets in)."""
        if self.welcome is not None:
            self._changed()

    # Readings

    def audible(self) -> dict[str, bool]:
        """Per other participant: would a browser play their sound now (``can_speak``)?"""
        return self.state.audible()

    def stats(self) -> dict[str, PeerStats]:
        """Per remote participant (connected now, or heard from before): what arrived."""
        now = asyncio.get_running_loop().time()
        audible = self.state.audible()
        result: dict[str, PeerStats] = {}
        for pid in set(self.receiver.media) | set(self.mesh.links):
            link = self.mesh.links.get(pid)
            state = (
                str(link.pc.connectionState)
                if link
                else self.sfu.state()
                if self.media_path == "sfu"
                else "closed"
            )
            media = self.receiver.media.get(pid) or RemoteMedia()
            result[pid] = media.stats(now, state, audible.get(pid, False))
        return result

    def selected_pair_types(self) -> dict[str, tuple[str, str] | None]:
        """Per connection: (local, remote) candidate types of the selected ICE pair (in SFU mode,
        the publishing connection's, for every other participant: all media goes that way)."""
        if self.media_path == "sfu":
            pair = self.sfu.selected_pair()
            return {pid: pair for pid in self.participants if pid != self.id}
        return {pid: link.selected_pair() for pid, link in self.mesh.links.items()}

    async def rtt(self) -> dict[str, float | None]:
        """Per connection: round-trip time in seconds (RTCP), None until reports came."""
        if self.media_path == "sfu":
            return {"sfu": await self.sfu.rtt()}
        return {pid: await link.rtt() for pid, link in list(self.mesh.links.items())}

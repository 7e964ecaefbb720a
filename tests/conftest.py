"""Fixtures shared by every test package.

``redis_server``: a throwaway redis-server on a free loopback port (no persistence, its own
directory), fresh for each test (it starts in ~15 ms). ``kill()`` and ``restart()`` simulate an
outage, ``pause()`` and ``resume()`` a server that hangs. A missing redis-server fails the test:
it is never skipped (``scripts/test`` installs it).

``janus``: a real Janus on loopback with a Hearth-generated config (``tests/janus.py``), one per
test; ``janus_pair``: two of them (failover). Both are stopped after the test.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from tests.fake_clock import Clock

if TYPE_CHECKING:
    from tests.janus import JanusProcess

STARTUP_TIMEOUT = 5.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


R = TypeVar("R", bound="RedisServer")


class RedisServer:
    # How it keeps data: not at all (a subclass may keep an append-only file).
    PERSISTENCE: tuple[str, ...] = ("--save", "", "--appendonly", "no")

    def __init__(self, executable: str, directory: Path, port: int) -> None:
        self.executable = executable
        self.directory = directory
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self._process is None, "already running"
        with (self.directory / "redis.log").open("ab") as log:
            self._process = subprocess.Popen(
                [
                    self.executable,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    *self.PERSISTENCE,
                    "--dir",
                    str(self.directory),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._answers_ping():  # also false while it is still loading a file
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"redis-server did not start on port {self.port}; see {self.directory}/redis.log")
            time.sleep(0.005)

    def kill(self) -> None:
        """SIGKILL: no goodbye to clients, like a crashed or unreachable server."""
        process, self._process = self._process, None
        if process is not None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=STARTUP_TIMEOUT)

    def restart(self) -> None:
        self.kill()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: connections open but nothing answers, like a hung server or a lost network."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.kill()  # nothing is persisted: no reason to wait for a clean shutdown

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def stop_process(process: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    """Ask a process to end (SIGTERM), and kill it if it has not within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def started_redis(kind: type[R], directory: Path) -> Iterator[R]:
    """A started redis-server of ``kind`` keeping its files in ``directory``, stopped after."""
    executable = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(executable).exists():
        pytest.fail("redis-server is missing: apt-get install -y --no-install-recommends redis-server")
    server = kind(executable, directory, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    yield from started_redis(RedisServer, tmp_path_factory.mktemp("redis"))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """``time.monotonic`` moved only by the test (rate limits, budgets)."""
    fake = Clock()
    monkeypatch.setattr(time, "monotonic", fake)
    return fake


@pytest.fixture
def janus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JanusProcess]:
    """A started Janus (tests/janus.py), stopped after the test."""
    from tests.janus import start_janus  # tests.janus imports this module

    instance = start_janus(tmp_path_factory.mktemp("janus"))
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def janus_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[JanusProcess, JanusProcess]]:
    """Two started Janus instances (failover tests), stopped after the test."""
    from tests.janus import start_janus

    first = start_janus(tmp_path_factory.mktemp("janus-a"))
    try:
        second = start_janus(tmp_path_factory.mktemp("janus-b"))
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()

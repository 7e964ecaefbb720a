"""A throwaway coturn on loopback for tests (the command line of TESTING.md).

``TurnServer`` listens on a free 127.0.0.1 UDP port, checks TURN REST credentials
(``--use-auth-secret`` with ``secret``) and relays from a small port range on 127.0.0.1 that was
free when it started. ``--allow-loopback-peers`` is for tests only: production configs deny
private and loopback peers. ``stop()`` takes it away in the middle of a test (a TURN outage).

``TurnServer(directory, config=SHIPPED_CONFIG)`` runs the shipped ``deploy/turnserver.conf``
instead (its quotas, realm, peer rules...), overriding on the command line only what a test on
loopback must change: addresses, ports, the secret, TLS/DTLS off and the files it writes.
A missing ``turnserver`` fails the test loudly; it is never skipped (``scripts/test`` installs
coturn). Every wait is bounded.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import stop_process

TURN_SECRET = "turn-test-secret-" + "y" * 20
SHIPPED_CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "turnserver.conf"
RELAY_PORTS = 30  # relay ports per server: one allocation per connection (max-bundle)
STARTUP_SECONDS = 10.0


# Ports below the kernel's ephemeral range (32768-60999 here): outgoing connections never take
# them, so a port found free stays free until turnserver binds it.
PORT_LOW, PORT_HIGH = 20_000, 32_700


def _bindable(port: int, kinds: tuple[int, ...]) -> bool:
    sockets: list[socket.socket] = []
    try:
        for kind in kinds:
            sock = socket.socket(socket.AF_INET, kind)
            sockets.append(sock)
            sock.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        for sock in sockets:
            sock.close()


def free_udp_port() -> int:
    """A port free for UDP and TCP on 127.0.0.1 (turnserver listens on both)."""
    for _ in range(200):
        port = random.randrange(PORT_LOW, PORT_HIGH)
        if _bindable(port, (socket.SOCK_DGRAM, socket.SOCK_STREAM)):
            return port
    raise RuntimeError("no free port found for turnserver")


def _free_udp_range(count: int, avoid: int) -> int:
    """The first port of ``count`` consecutive UDP ports that are free on 127.0.0.1 right now
    (and exclude ``avoid``)."""
    for _ in range(50):
        low = random.randrange(PORT_LOW, PORT_HIGH - count, 10)
        if low <= avoid < low + count:
            continue
        if all(_bindable(port, (socket.SOCK_DGRAM,)) for port in range(low, low + count)):
            return low
    raise RuntimeError(f"no {count} consecutive free UDP ports found")


def rest_credential(secret: str, username: str) -> str:
    """The TURN REST password of ``username``: base64(hmac_sha1(secret, username))."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


class TurnServer:
    def __init__(
        self,
        directory: Path,
        secret: str = TURN_SECRET,
        relay_ports: int = RELAY_PORTS,
        *,
        config: Path | None = None,
    ) -> None:
        binary = shutil.which("turnserver")
        if binary is None:
            pytest.fail("turnserver is missing: scripts/test installs it (apt-get install coturn)")
        self.binary = binary
        self.directory = directory
        self.secret = secret
        self.config = config
        self.port = free_udp_port()
        self.min_port = _free_udp_range(relay_ports, avoid=self.port)
        self.max_port = self.min_port + relay_ports - 1
        self.log = directory / "turn.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``turn:127.0.0.1:PORT`` (UDP is the default transport)."""
        return f"turn:127.0.0.1:{self.port}"

    @property
    def udp_url(self) -> str:
        return f"{self.url}?transport=udp"

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def credentials(
        self, participant_id: str, ttl: float = 3600, *, secret: str | None = None
    ) -> tuple[str, str]:
        """(username, password) of the TURN REST scheme, valid for ``ttl`` seconds from now
        (negative: expired); ``secret`` forges them with another secret."""
        username = f"{int(time.time() + ttl)}:{participant_id}"
        return username, rest_credential(secret if secret is not None else self.secret, username)

    def start(self) -> None:
        assert self.process is None, "already running"
        command = self._shipped_command() if self.config is not None else [
            self.binary, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
            f"--listening-port={self.port}", "--use-auth-secret", f"--static-auth-secret={self.secret}",
            "--realm=hearth.test", "--fingerprint", "--no-tls", "--no-dtls", "--no-cli",
            "--allow-loopback-peers", f"--min-port={self.min_port}", f"--max-port={self.max_port}",
            f"--userdb={self.directory / 'turndb'}", f"--pidfile={self.directory / 'turn.pid'}",
            f"--log-file={self.log}", "--simple-log", "--no-stdout-log",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            self._wait_for_binding()
        except BaseException:
            self.stop()
            raise

    def _shipped_command(self) -> list[str]:
        """The shipped config file, with only the loopback test's overrides."""
        return [
            self.binary, "-c", str(self.config), "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
            f"--listening-port={self.port}", f"--static-auth-secret={self.secret}", "--no-tls", "--no-dtls",
            f"--min-port={self.min_port}", f"--max-port={self.max_port}",
            f"--userdb={self.directory / 'turndb'}", f"--pidfile={self.directory / 'turn.pid'}",
            f"--log-file={self.log}", "--no-stdout-log",
        ]  # fmt: skip

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        stop_process(process, 5)

    def _wait_for_binding(self) -> None:
        """Until the server answers a STUN binding request (at most ``STARTUP_SECONDS``)."""
        assert self.process is not None
        request = bytes.fromhex("000100002112a442") + os.urandom(12)
        deadline = time.monotonic() + STARTUP_SECONDS
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.1)
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    pytest.fail(f"turnserver exited with status {self.process.returncode}; see {self.log}")
                sock.sendto(request, self.address)
                try:
                    sock.recvfrom(2048)
                    return
                except OSError:  # a timeout, or ICMP port unreachable before it listens
                    time.sleep(0.02)
        pytest.fail(f"turnserver did not answer on 127.0.0.1:{self.port} within {STARTUP_SECONDS:g} s")


@contextlib.contextmanager
def running_turn(directory: Path) -> Iterator[TurnServer]:
    """A started ``TurnServer`` keeping its files in ``directory``, stopped on the way out."""
    server = TurnServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def turn_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TurnServer]:
    """A running coturn for this test, stopped afterwards (also if the test stopped it)."""
    with running_turn(tmp_path_factory.mktemp("turn")) as server:
        yield server

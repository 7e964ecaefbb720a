"""A real Janus (Debian's ``janus``) on loopback for tests, with a configuration Hearth generated.

``start_janus(folder)`` writes the configuration through ``server.sfu.janus_config`` (free WS
port, an RTP range of 200 free ports, the SDP address 127.0.0.1) and starts ``janus -F``; it
returns once the WebSocket port answers. The log is ``folder/janus.log``.

Janus leaves loopback interfaces out of its ICE candidates (it skips ``IFF_LOOPBACK``), so a
loopback-only test would get no candidate pair. Test-only way around it: an ``LD_PRELOAD`` shim,
compiled here with gcc once per test session, clears that flag in ``getifaddrs``, and
``nat.ice_enforce_list = "lo"`` keeps ICE on the loopback interface. Janus then offers
127.0.0.1 host candidates, and aiortc or Chromium connect to it without leaving this machine.

A missing ``janus`` or ``gcc`` fails the test loudly (``scripts/test`` installs them). Every
wait is bounded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.sfu.janus_config import JanusConfig, write_config
from tests.conftest import free_port, stop_process

STARTUP_SECONDS = 10.0
RTP_PORTS = 200

SHIM_SOURCE = r"""
/* Test-only: report every interface as non-loopback, so Janus gathers 127.0.0.1 candidates. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>

int getifaddrs(struct ifaddrs **ifap) {
    static int (*real)(struct ifaddrs **) = 0;
    if (!real)
        real = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, "getifaddrs");
    int rc = real(ifap);
    if (rc == 0)
        for (struct ifaddrs *i = *ifap; i; i = i->ifa_next)
            i->ifa_flags &= ~IFF_LOOPBACK;
    return rc;
}
"""


def loopback_shim() -> Path:
    """The compiled shim, cached in the temp folder by the hash of its source."""
    digest = hashlib.sha256(SHIM_SOURCE.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"hearth-janus-shim-{os.getuid()}"
    library = folder / f"loopback-{digest}.so"
    if library.exists():
        return library
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is missing (needed for the Janus test shim): apt-get install -y gcc")
    folder.mkdir(mode=0o700, exist_ok=True)
    source = folder / f"loopback-{digest}.c"
    source.write_text(SHIM_SOURCE)
    partial = folder / f"loopback-{digest}.{os.getpid()}.so"
    result = subprocess.run(
        [gcc, "-shared", "-fPIC", "-O2", "-o", str(partial), str(source), "-ldl"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"gcc could not build the Janus test shim: {result.stderr[-2000:]}")
    partial.replace(library)  # atomic: parallel sessions never load a half-written file
    return library


_held: set[tuple[int, int]] = set()  # ranges of running instances: Janus binds them only as calls start


def hold(rtp_ports: tuple[int, int]) -> None:
    """Count ``rtp_ports`` as held again (an instance restarted with its old configuration)."""
    _held.add(rtp_ports)


def free_udp_range(count: int) -> tuple[int, int]:
    """``count`` consecutive UDP ports on 127.0.0.1 free right now (below the ephemeral range),
    overlapping no range a Janus of this test run still holds (an instance gives its range back
    when it stops: a whole suite starts more instances than 20000-32000 has ranges for). The
    slots are tried from a random one on, so two test runs side by side rarely meet."""
    slots = list(range(20000, 32000 - count, count))
    start = int.from_bytes(os.urandom(2), "big") % len(slots)
    for low in slots[start:] + slots[:start]:
        if any(low <= high and held_low <= low + count - 1 for held_low, high in _held):
            continue
        sockets: list[socket.socket] = []
        try:
            for port in range(low, low + count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            _held.add((low, low + count - 1))
            return low, low + count - 1
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    pytest.fail(f"found no {count} free consecutive UDP ports")


@dataclass
class JanusProcess:
    url: str  # ws://127.0.0.1:PORT
    secret: str
    process: subprocess.Popen[bytes]
    config_dir: Path
    rtp_ports: tuple[int, int] = (0, 0)

    @property
    def log(self) -> Path:
        return self.config_dir / "janus.log"

    def kill(self) -> None:
        """SIGKILL and wait: no goodbye to clients, like a crashed instance."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STARTUP_SECONDS)
        _held.discard(self.rtp_ports)

    def stop(self) -> None:
        """SIGTERM, then kill."""
        if self.process.poll() is None:
            stop_process(self.process, 5)
        _held.discard(self.rtp_ports)


def start_janus(folder: Path, *, secret: str = "test-secret", session_timeout: int = 60) -> JanusProcess:
    """A started Janus with a generated config in ``folder``; see the module docstring."""
    port = free_port()
    config = JanusConfig(
        secret=secret,
        ws_host="127.0.0.1",
        ws_port=port,
        rtp_ports=(rtp_ports := free_udp_range(RTP_PORTS)),
        interface="127.0.0.1",
        ice_enforce_list="lo",
        session_timeout=session_timeout,
    )
    write_config(folder, config)
    return launch(folder, port, secret, rtp_ports)


def launch(folder: Path, port: int, secret: str, rtp_ports: tuple[int, int]) -> JanusProcess:
    """Run Janus on the configuration already in ``folder`` (its WebSocket API on ``port``) with
    the loopback shim, and wait until the API answers: a first start, or a restart of a killed
    instance on its old configuration (the log and output are appended to)."""
    executable = shutil.which("janus")
    if executable is None:
        pytest.fail("janus is missing: apt-get install -y --no-install-recommends janus")
    env = {**os.environ, "LD_PRELOAD": str(loopback_shim())}
    log = folder / "janus.log"
    with (folder / "janus.stdout").open("ab") as out:
        process = subprocess.Popen(
            [executable, "-F", str(folder), "-L", str(log), "-N", "-o"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    janus = JanusProcess(f"ws://127.0.0.1:{port}", secret, process, folder, rtp_ports)
    deadline = time.monotonic() + STARTUP_SECONDS
    while not _listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            janus.kill()
            text = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            pytest.fail(f"janus did not start listening on {port} within {STARTUP_SECONDS} s: {text}")
        time.sleep(0.02)
    return janus


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False

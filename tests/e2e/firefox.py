"""Firefox people for the e2e tests: Debian's firefox-esr driven by tests/firefox/driver.mjs.

Playwright cannot drive a system Firefox; puppeteer-core (package.json) can, over WebDriver BiDi.
Each person is one headless Firefox in its own Node process (a second page in one Firefox stays in
the background and does not present video), answering JSON-line commands on its stdin/stdout.
Firefox's sound goes to a throwaway PulseAudio server with a null sink (without a sound server its
AudioContext never starts, and level meters read 0), in a temp dir, killed at the end.

The ``firefox`` fixture opens people: ``await firefox.open(url)``, then ``evaluate``, ``click``,
``join``. Firefox missing fails the test, saying what to install. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.polling import eventually

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "firefox" / "driver.mjs"
FIREFOX = "/usr/bin/firefox-esr"
START_S = 90.0  # launching Firefox on a busy 2-core machine
COMMAND_S = 45.0  # the driver bounds each command at 35 s itself


class FirefoxError(AssertionError):
    """A command the Firefox page could not carry out (the driver's message)."""


class FirefoxPerson:
    """One person in one headless Firefox (a driver process)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.next_id = 0
        self.lock = asyncio.Lock()

    async def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise FirefoxError("the Firefox driver exited")
        message: dict[str, Any] = json.loads(line)
        return message

    async def ready(self) -> None:
        message = await asyncio.wait_for(self._read(), START_S)
        if not message.get("ready"):
            raise FirefoxError(f"the Firefox driver did not start: {message}")

    async def command(self, op: str, **fields: Any) -> Any:
        assert self.process.stdin is not None
        async with self.lock:
            self.next_id += 1
            self.process.stdin.write((json.dumps({"id": self.next_id, "op": op, **fields}) + "\n").encode())
            await self.process.stdin.drain()
            answer = await asyncio.wait_for(self._read(), COMMAND_S)
        if not answer.get("ok"):
            raise FirefoxError(f"Firefox {op} failed: {answer.get('error')}")
        return answer.get("value")

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited); plain values only."""
        return await self.command("evaluate", expression=expression)

    async def click(self, selector: str) -> None:
        await self.command("click", selector=selector)

    async def join(self, name: str, until: str = "#screen-room") -> str:
        """Join through the screens (name, agreement, Join) and wait for ``until``; the participant id."""
        await self.command("join", name=name, until=until)
        pid: str = await self.evaluate("window.hearth.client.state.you.id")
        return pid

    async def text(self, selector: str) -> str:
        value = await self.evaluate(f"document.querySelector({json.dumps(selector)})?.textContent ?? ''")
        return str(value)

    async def errors(self) -> list[str]:
        errors: list[str] = await self.command("errors")
        return errors

    async def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


class PulseAudio:
    """A PulseAudio server with a null sink, in ``folder``, for Firefox's sound."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.socket = folder / "pulse.sock"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {**os.environ, "HOME": str(self.folder), "XDG_RUNTIME_DIR": str(self.folder)}
        self.process = await asyncio.create_subprocess_exec(
            "pulseaudio",
            "-n",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "-L",
            f"module-native-protocol-unix socket={self.socket} auth-anonymous=1",
            "-L",
            "module-null-sink",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await eventually(self.socket.exists, "PulseAudio's socket", timeout=15)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 5)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


class Firefoxes:
    """Opens Firefox people (one browser each) sharing one PulseAudio; closes them all."""

    def __init__(self, folder: Path, pulse: PulseAudio) -> None:
        self.folder = folder
        self.pulse = pulse
        self.people: list[FirefoxPerson] = []

    async def open(self, url: str, *, obfuscate: bool = False) -> FirefoxPerson:
        """A Firefox showing ``url``. ``obfuscate``: mDNS ``.local`` host candidates, Firefox's
        default (off here by default, like Chromium's ``WebRtcHideLocalIpsWithMdns`` flag)."""
        env = {
            **os.environ,
            "PULSE_SERVER": f"unix:{self.pulse.socket}",
            "TMPDIR": str(self.folder),  # Firefox's profile, removed with the folder
            "PUPPETEER_SKIP_DOWNLOAD": "1",
        }
        process = await asyncio.create_subprocess_exec(
            "node",
            str(DRIVER),
            json.dumps({"url": url, "obfuscate": obfuscate}),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            cwd=ROOT,
            limit=4 * 1024 * 1024,
        )
        person = FirefoxPerson(process)
        self.people.append(person)
        await person.ready()
        return person

    async def close(self) -> list[str]:
        """Close every Firefox; the uncaught page errors they saw."""
        errors: list[str] = []
        for person in self.people:
            with contextlib.suppress(Exception):
                errors += await person.errors()
            await person.close()
        return errors


@pytest.fixture
async def firefox(tmp_path: Path) -> AsyncIterator[Firefoxes]:
    if not shutil.which(FIREFOX):
        pytest.fail(f"{FIREFOX} is missing: scripts/test installs it (apt-get install firefox-esr)")
    if not shutil.which("pulseaudio"):
        pytest.fail("pulseaudio is missing: scripts/test installs it (apt-get install pulseaudio)")
    if not (ROOT / "node_modules" / "puppeteer-core").is_dir():
        pytest.fail("puppeteer-core is missing: scripts/test installs it (npm install, from package.json)")
    folder = tmp_path / "firefox"
    folder.mkdir()
    # A short path of its own: a unix socket's path has at most 107 characters.
    pulse = PulseAudio(Path(tempfile.mkdtemp(prefix="hearth-pulse-")))
    try:
        await pulse.start()
        people = Firefoxes(folder, pulse)
        try:
            yield people
        finally:
            errors = await people.close()
    finally:
        await pulse.stop()
        shutil.rmtree(pulse.folder, ignore_errors=True)
    assert errors == [], f"Firefox pages threw uncaught errors: {errors}"

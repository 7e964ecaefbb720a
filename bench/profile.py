"""py-spy profiles of the servers during chosen traffic steps (``python -m bench --profile DIR``).

py-spy (``pip install -e '.[bench]'``) samples a running server from outside, so the server runs
unchanged. Each profile is written twice: ``LABEL.txt``, py-spy's raw collapsed stacks (open it
in speedscope or flamegraph.pl), and ``LABEL-top.txt``, the frames with the most samples, by
self time and by inclusive time, with the idle wait in ``select`` left out. Sampling costs the
server a little CPU: figures of a profiled step are not the ones the tables report.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

RATE = 250  # samples per second
# py-spy says it has attached ("py-spy> Sampling process ...") before it takes its first sample.
STARTED = b"py-spy> Sampling"
# How long a step waits for that line. py-spy's own start (reading the server's memory to find its
# interpreter) takes well under a second on an idle machine but seconds on a busy one: sampling
# for ``seconds`` from a late start would miss the step and profile an idle server instead.
START_TIMEOUT = 30.0


def py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit("--profile needs py-spy: pip install -e '.[bench]'")
    return found


@asynccontextmanager
async def profiled(
    pids: list[int], directory: Path | None, label: str, seconds: float
) -> AsyncIterator[None]:
    """Sample every pid for ``seconds`` (rounded up) while the body runs; nothing without a directory."""
    if directory is None:
        yield
        return
    directory.mkdir(parents=True, exist_ok=True)
    recorders = []
    for n, pid in enumerate(pids):
        name = label if len(pids) == 1 else f"{label}-node{n + 1}"
        command = [py_spy(), "record", "--pid", str(pid), "--rate", str(RATE), "--format", "raw",
                   "--duration", str(max(1, round(seconds))), "--nonblocking",
                   "--output", str(directory / f"{name}.txt")]  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
        )
        recorders.append((process, directory / f"{name}.txt"))
    try:
        # The step starts once every recorder samples, so the profile covers the step's traffic.
        await asyncio.gather(*(_started(process) for process, _ in recorders))
        yield
    finally:
        for process, path in recorders:
            try:
                await asyncio.wait_for(process.communicate(), seconds + 30)
            except TimeoutError:
                process.kill()
                await process.communicate()
            if path.exists():
                path.with_name(path.stem + "-top.txt").write_text(summary(path.read_text()))


async def _started(process: asyncio.subprocess.Process) -> None:
    """Wait (bounded) until py-spy samples, or has exited (then its profile is empty, and says so)."""
    stdout = process.stdout
    assert stdout is not None

    async def first_sample() -> None:
        while line := await stdout.readline():
            if line.startswith(STARTED):
                return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(first_sample(), START_TIMEOUT)


def _idle(frame: str) -> bool:
    """The event loop waiting in its selector (``EpollSelector.select (selectors.py:468)``)."""
    name, _, where = frame.partition(" (")
    return where.startswith("selectors.py") and name.endswith((".select", ".poll"))


def summary(raw: str, rows: int = 40) -> str:
    """The frames with the most samples in py-spy's raw output (``frame;frame;... count`` lines)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if _idle(frames[-1]):
            continue
        n = int(count)
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    # The first word is always the count (0 too), so a reader can take it as a number.
    lines = [f"{total} busy samples (the event loop's idle wait left out)"]
    if not total:
        return lines[0] + "\n"
    lines += ["", "self time:"]
    lines += [f"{n / total:7.1%}  {frame}" for frame, n in own.most_common(rows)]
    lines += ["", "inclusive time:"]
    lines += [f"{n / total:7.1%}  {frame}" for frame, n in inclusive.most_common(rows)]
    return "\n".join(lines) + "\n"

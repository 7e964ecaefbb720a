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
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

RATE = 250  # samples per second


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
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        recorders.append((process, directory / f"{name}.txt"))
    try:
        yield
    finally:
        for process, path in recorders:
            try:
                await asyncio.wait_for(process.wait(), seconds + 30)
            except TimeoutError:
                process.kill()
                await process.wait()
            if path.exists():
                path.with_name(path.stem + "-top.txt").write_text(summary(path.read_text()))


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
    if not total:
        return "no busy samples\n"
    lines = [f"{total} busy samples (the event loop's idle wait left out)", "", "self time:"]
    lines += [f"{n / total:7.1%}  {frame}" for frame, n in own.most_common(rows)]
    lines += ["", "inclusive time:"]
    lines += [f"{n / total:7.1%}  {frame}" for frame, n in inclusive.most_common(rows)]
    return "\n".join(lines) + "\n"

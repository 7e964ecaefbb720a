"""The one way tests wait for something: poll a check, bounded in time, and name what was awaited.

A shared, noisy machine gives no timing to assert on, so a test waits for an outcome instead, and
every wait is bounded (tests never hang; a failure says what did not happen). The check may be
plain (``lambda: len(frames) >= 2``) or asynchronous (``lambda: page.evaluate(...)``); its first
truthy value is returned, so a wait can also fetch what it waited for.

``server.peers.until`` is the peers' own (product code); tests of anything but the peer itself use
this one.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar, overload

T = TypeVar("T")

TIMEOUT = 20.0
"""The default bound, in seconds: generous for a busy 2-core machine, short enough for a failure."""


@overload
async def eventually(
    check: Callable[[], Awaitable[T]], what: str, *, timeout: float = TIMEOUT, every: float = 0.05
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T], what: str, *, timeout: float = TIMEOUT, every: float = 0.05
) -> T: ...


async def eventually(
    check: Callable[[], object], what: str, *, timeout: float = TIMEOUT, every: float = 0.05
) -> object:
    """Poll ``check`` every ``every`` seconds until it gives something truthy, and return that; after
    ``timeout`` seconds fail with an ``AssertionError`` naming ``what`` (what the test waited for).

    The check runs at least once, and once more after the deadline passes, so a slow machine that
    wakes late still sees an outcome that did happen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        late = loop.time() > deadline
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if late:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(every)

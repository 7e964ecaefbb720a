"""Driving an ASGI ``send`` coroutine by hand: start it inside a plain call, finish it in a task.

A websocket text frame to an idle socket is written without suspending (the transport is not
paused), so ``server.connection`` writes it inside the fan-out call itself: no task, no task
switch per frame. Only when the send suspends does a task take over and finish it.

Finishing it relies on one private detail of asyncio, the only one in Hearth: a coroutine that
awaits a future yields that future with ``_asyncio_future_blocking`` set to true, and whoever
resumes it (normally the ``Task``) must reset that flag to false first, or the future refuses to
be awaited again ("await wasn't used with future"). ``tests/server/test_eager_send.py`` fails
if the attribute is gone or the path stops working, so a Python upgrade that changes it is seen
at once, not as frames that never leave.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

# ``start``'s answer when the send finished inside the call.
DONE: Any = object()

Send = Coroutine[Any, Any, None]


def start(send: Send) -> Any:
    """Run ``send`` until it completes (``DONE``) or suspends: then it returns what the coroutine
    waits on (a future, or ``None`` for a bare yield), to give to ``finish`` in a task. An
    exception from the send propagates (the coroutine is then finished)."""
    try:
        return send.send(None)
    except StopIteration:
        return DONE


async def finish(send: Send, waiting: Any) -> None:
    """Run a send coroutine that suspended on ``waiting`` to its end, as a task would: wait for
    the future, then resume the coroutine."""
    try:
        while True:
            if waiting is None:
                await asyncio.sleep(0)
            else:
                waiting._asyncio_future_blocking = False
                await asyncio.wait((waiting,))
            waiting = send.send(None)
    except StopIteration:
        return
    except BaseException:
        send.close()
        raise

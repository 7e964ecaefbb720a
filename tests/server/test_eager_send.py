"""``server.eager_send``: the one place that leans on a private detail of asyncio.

If a Python release renames or drops ``_asyncio_future_blocking``, these fail at once, instead
of frames to a slow reader never leaving the server.
"""

from __future__ import annotations

import asyncio

from server import eager_send


def test_futures_still_have_the_private_flag() -> None:
    loop = asyncio.new_event_loop()
    try:
        assert hasattr(loop.create_future(), "_asyncio_future_blocking")
        assert hasattr(asyncio.Future(loop=loop), "_asyncio_future_blocking")
    finally:
        loop.close()


async def test_a_send_that_does_not_suspend_is_done_inside_the_call() -> None:
    written: list[str] = []

    async def send(text: str) -> None:
        written.append(text)

    assert eager_send.start(send("now")) is eager_send.DONE
    assert written == ["now"]


async def test_a_send_that_suspends_on_a_future_is_finished_by_a_task() -> None:
    """The path of a socket whose transport paused writing: the send waits on a future."""
    written: list[str] = []
    drained: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def send(text: str) -> None:
        written.append("started")
        await drained  # what a paused transport's drain waiter does
        written.append(text)

    coroutine = send("later")
    waiting = eager_send.start(coroutine)
    assert waiting is drained and waiting._asyncio_future_blocking
    task = asyncio.get_running_loop().create_task(eager_send.finish(coroutine, waiting))
    await asyncio.sleep(0)
    assert written == ["started"] and not task.done()
    drained.set_result(None)
    await asyncio.wait_for(task, 5)
    assert written == ["started", "later"]
    assert drained._asyncio_future_blocking is False  # handed back as a task would


async def test_a_send_that_fails_after_suspending_raises_from_finish() -> None:
    broken: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def send() -> None:
        await broken

    coroutine = send()
    waiting = eager_send.start(coroutine)
    broken.set_exception(ConnectionResetError())
    try:
        await asyncio.wait_for(eager_send.finish(coroutine, waiting), 5)
    except ConnectionResetError:
        pass
    else:
        raise AssertionError("the failure of the send was lost")


async def test_a_send_that_yields_bare_is_resumed() -> None:
    written: list[str] = []

    async def send() -> None:
        await asyncio.sleep(0)  # a bare yield: nothing to wait on
        written.append("done")

    coroutine = send()
    waiting = eager_send.start(coroutine)
    assert waiting is None
    await asyncio.wait_for(eager_send.finish(coroutine, waiting), 5)
    assert written == ["done"]

"""tests/polling.py, the one waiting helper: returns the check's first truthy value (plain or
awaited), and fails naming what it waited for once its bound has passed."""

from __future__ import annotations

import itertools

import pytest

from tests.polling import eventually


async def test_returns_the_first_truthy_value_of_a_plain_check() -> None:
    counter = itertools.count()
    assert await eventually(lambda: next(counter) >= 3 and "ready", "the third poll", every=0) == "ready"


async def test_awaits_an_asynchronous_check() -> None:
    calls: list[int] = []

    async def check() -> list[int] | None:
        calls.append(1)
        return calls if len(calls) == 2 else None

    assert await eventually(check, "the second call", every=0) == [1, 1]


async def test_fails_naming_what_it_waited_for_after_checking_once_more() -> None:
    calls: list[int] = []

    def never() -> bool:
        calls.append(1)
        return False

    with pytest.raises(AssertionError, match=r"timed out after 0\.05 s waiting for the impossible"):
        await eventually(never, "the impossible", timeout=0.05, every=0.01)
    assert len(calls) >= 2  # at least once before and once after the deadline

"""A ``time.monotonic`` that only the test moves: for unit tests of rate limits and budgets.

The ``clock`` fixture (tests/conftest.py) puts one in place; ``clock.now += 1`` moves time.
"""

from __future__ import annotations


class Clock:
    """time.monotonic, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

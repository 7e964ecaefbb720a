"""The one error the engine raises: a refused command, with a wire error code."""

from __future__ import annotations


class CommandError(Exception):
    """A command was refused; the state is unchanged. ``code`` is a PROTOCOL.md error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

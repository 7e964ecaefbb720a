"""The one error the engine raises: a refused command, with a wire error code."""

from __future__ import annotations

from rooms.codes import ErrorCode


class CommandError(Exception):
    """A command was refused; the state is unchanged. ``code`` is one of ``rooms.codes.ErrorCode``."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

"""server.logs: what reaches stderr is JSON lines, whatever produced it."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator

import pytest

from server import logs


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """``logs.configure`` sets process-wide logging: put it back for the other tests."""
    names = ("hearth", "py.warnings")
    # Another test's server may have hooked warnings already, and pytest puts its own hook back
    # after each test: logging would then think it still captures them. Start from unhooked.
    logging.captureWarnings(False)
    saved = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate) for name in names}
    yield
    logging.captureWarnings(False)
    for name, (handlers, propagate) in saved.items():
        logging.getLogger(name).handlers[:] = handlers
        logging.getLogger(name).propagate = propagate


def test_python_warnings_become_json_lines(capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    logs.configure("info")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("a library changed its mind", RuntimeWarning, stacklevel=1)
    logging.getLogger("hearth.test").info("an ordinary line")
    lines = capsys.readouterr().err.splitlines()
    entries = [json.loads(line) for line in lines]  # every line is JSON
    assert [entry["logger"] for entry in entries] == ["py.warnings", "hearth.test"]
    assert "a library changed its mind" in entries[0]["msg"]
    assert entries[0]["level"] == "warning"

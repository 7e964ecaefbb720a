"""Structured (JSON lines) logs. What is logged: ids, types, codes, counts. Never chat text,
SDP, tokens, display names or client addresses: callers pass only those safe fields as
``extra``, and uvicorn's own lines go through ``ClientAddressFilter`` (see ``uvicorn_log_config``)."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

SAFE_FIELDS = ("room", "participant", "conn", "code", "type", "role", "reason", "count", "check", "seconds")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": round(time.time(), 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in SAFE_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry)


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("hearth")
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper())
    logger.propagate = False
    # Python's warnings (a library's DeprecationWarning, a RuntimeWarning) would be printed as
    # plain text on stderr; as log records they are JSON lines like the rest.
    logging.captureWarnings(True)
    warnings_logger = logging.getLogger("py.warnings")
    warnings_logger.handlers[:] = [handler]
    warnings_logger.propagate = False


# uvicorn's own loggers. Its protocol lines start with the client's address ("%s - " with
# "IP:PORT", or a "IP:PORT - " prefix at trace level) and carry the path with its query string,
# which can hold an invite token (?k=). The filter drops both, and as a safety net removes
# anything shaped like an address from every line logged from a protocol module (uvicorn's and
# the websockets library's): lines about the server itself ("running on http://127.0.0.1:8080")
# keep theirs.

_ADDRESS = re.compile(
    r"\[[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(?:%\w+)?\](?::\d+)?"  # [v6]:port
    r"|(?<![\w.:])(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?(?![\w.])"  # v4[:port]
    r"|(?<![\w:])(?=[0-9A-Fa-f:.]*::)[0-9A-Fa-f:.]+(?:%\w+)?"  # v6 with "::" (and ":port")
    r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?::\d+)?(?![\w:])"  # full-length v6
)
_PROTOCOL_MODULES = ("/uvicorn/protocols/", "/websockets/")
CLIENT = "client"


def _without_query(value: object) -> object:
    if isinstance(value, str) and value.startswith("/") and "?" in value:
        return value.split("?", 1)[0]
    return value


class ClientAddressFilter(logging.Filter):
    """Rewrites uvicorn's records so no client address (nor a query string) reaches the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args and isinstance(record.msg, str):
            values = list(args)
            if record.msg.startswith("%s - "):  # '%s - "WebSocket %s" [accepted]', the access log
                values[0] = CLIENT
            elif record.msg.startswith("%s") and isinstance(values[0], str) and values[0].endswith(" - "):
                values[0] = ""  # the trace lines' "IP:PORT - " prefix
            record.args = tuple(_without_query(value) for value in values)
        pathname = record.pathname.replace("\\", "/")
        if any(part in pathname for part in _PROTOCOL_MODULES):
            record.msg = _ADDRESS.sub(CLIENT, record.getMessage())
            record.args = None
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's ``log_config``: its loggers write Hearth's JSON lines to stderr, through
    ``ClientAddressFilter``; the access log has no handler (``access_log=False`` anyway)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"no_clients": {"()": ClientAddressFilter}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "json",
                "filters": ["no_clients"],
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": [], "level": "INFO", "propagate": False},
        },
    }

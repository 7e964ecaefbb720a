"""Structured (JSON lines) logs. What is logged: ids, types, codes, counts. Never chat text,
SDP, tokens or display names: callers pass only those safe fields as ``extra``."""

from __future__ import annotations

import json
import logging
import sys
import time

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

"""Prometheus metrics. Labels are message types and error codes: never ids, names or content."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

CONNECTIONS = Gauge("hearth_connections", "Open websocket connections on this node", registry=REGISTRY)
ROOMS = Gauge("hearth_rooms", "Rooms with at least one connection on this node", registry=REGISTRY)
MESSAGES_IN = Counter("hearth_messages_in", "Client messages received, by type", ["type"], registry=REGISTRY)
MESSAGES_OUT = Counter(
    "hearth_messages_out", "Frames queued to clients, by type", ["type"], registry=REGISTRY
)
ERRORS = Counter("hearth_errors", "Errors sent to clients, by code", ["code"], registry=REGISTRY)
CLOSES = Counter("hearth_closes", "Sockets closed by the server, by close code", ["code"], registry=REGISTRY)
CHECKS = Gauge("hearth_checks", "Connection checks (echo peers) running on this node", registry=REGISTRY)
CHECKS_REFUSED = Counter(
    "hearth_checks_refused", "Connection checks refused because all slots were taken", registry=REGISTRY
)
SNAPSHOTS = Counter(
    "hearth_snapshots", "snapshot messages built (answers to sync, and resyncs)", registry=REGISTRY
)
SIGNALS_DROPPED = Counter(
    "hearth_signals_dropped",
    "Relayed signal frames dropped because the receiver's send queue was half full",
    registry=REGISTRY,
)
FANOUT_SECONDS = Histogram(
    "hearth_fanout_seconds",
    "From publishing a room event to its frames being queued for every local recipient",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
    registry=REGISTRY,
)

_out_children: dict[str, Counter] = {}
_in_children: dict[str, Counter] = {}


def count_out(kind: str, n: int) -> None:
    if n:
        child = _out_children.get(kind)
        if child is None:
            child = _out_children[kind] = MESSAGES_OUT.labels(kind or "other")
        child.inc(n)


def count_in(kind: str) -> None:
    child = _in_children.get(kind)
    if child is None:
        child = _in_children[kind] = MESSAGES_IN.labels(kind)
    child.inc()

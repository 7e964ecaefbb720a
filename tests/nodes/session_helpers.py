"""Helpers shared by the multi-node tests (tests/nodes): what a participant event is about, and
a member let in from the lobby through any node."""

from __future__ import annotations

from typing import Any

from tests.nodes.conftest import NodeProcess
from tests.server.conftest import Client


def about(pid: str, **fields: Any) -> Any:
    def match(message: dict[str, Any]) -> bool:
        person = message.get("participant", {})
        return person.get("id") == pid and all(person.get(k) == v for k, v in fields.items())

    return match


async def admitted(node: NodeProcess, facilitator: Client, token: str, name: str) -> Client:
    """Join on ``node``, wait in the lobby, and get let in by ``facilitator`` (on any node)."""
    client = await node.connect()
    assert await client.join(token, name) == {"type": "lobby", "state": "waiting_for_admission"}
    change = await facilitator.recv_until(
        "lobby_changed", lambda m: name in [w["name"] for w in m["waiting"]]
    )
    target = next(w["id"] for w in change["waiting"] if w["name"] == name)
    await facilitator.ok({"type": "admit", "target": target})
    welcome = await client.wait_welcome()
    assert welcome["you"]["id"] == target and welcome["you"]["role"] == "member"
    return client

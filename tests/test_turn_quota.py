"""TURN allocation quotas with the shipped ``deploy/turnserver.conf`` on a real coturn.

One TURN user (one participant, or one invite link's connection checks) must not be able to take
every relay allocation: coturn's ``user-quota`` refuses it with 486 (Allocation Quota Reached)
while another user still gets relays. coturn counts a TURN REST user by the part of its user name
after the expiry, so every credential Hearth hands one participant or one link shares one quota.
Allocations are made by ``tests/turn_client.py`` (TURN Allocate over UDP, long-term credentials),
as a browser would; every wait is bounded.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from tests.server.conftest import StartServer, start_server
from tests.turn import SHIPPED_CONFIG, TurnServer
from tests.turn_client import Allocation, allocate

pytestmark = [pytest.mark.turn, pytest.mark.slow]
__all__ = ["start_server"]  # a fixture used here by name

QUOTA_REACHED = 486
HEADROOM = 40  # relay ports beyond what the quotas need: without a quota one user could take them


def shipped_option(name: str) -> str | None:
    """The value of an active ``name=value`` line of deploy/turnserver.conf, or None."""
    for line in SHIPPED_CONFIG.read_text().splitlines():
        found = re.fullmatch(rf"\s*{re.escape(name)}\s*=\s*(\S+)\s*", line.split("#", 1)[0])
        if found:
            return found[1]
    return None


def user_quota() -> int:
    """The shipped per-user quota (100 when the file has none: what the test then expects)."""
    value = shipped_option("user-quota")
    return int(value) if value is not None else 100


@pytest.fixture
def shipped_turn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TurnServer]:
    """coturn with deploy/turnserver.conf, a relay port range of room for two full quotas and more."""
    directory = tmp_path_factory.mktemp("turn")
    server = TurnServer(directory, relay_ports=2 * user_quota() + HEADROOM, config=SHIPPED_CONFIG)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def fill(server: TurnServer, credentials: list[tuple[str, str]], attempts: int) -> list[Allocation]:
    """Allocate with ``credentials`` in turn until one is refused (or ``attempts`` are made)."""
    made: list[Allocation] = []
    for n in range(attempts):
        username, password = credentials[n % len(credentials)]
        made.append(allocate(server.address, username, password))
        if not made[-1].ok:
            break
    return made


def close_all(allocations: list[Allocation]) -> None:
    for allocation in allocations:
        allocation.close()


def test_the_shipped_config_sets_per_user_and_total_quotas() -> None:
    quota, total = shipped_option("user-quota"), shipped_option("total-quota")
    assert quota is not None and total is not None
    ports = int(shipped_option("max-port") or 0) - int(shipped_option("min-port") or 0) + 1
    # A participant of the largest room Hearth allows (50) needs 2 * 49 allocations; the total
    # stays under the relay ports the file opens.
    assert 2 * 49 <= int(quota) < int(total) <= ports


def test_one_user_is_refused_past_the_quota_while_another_still_allocates(shipped_turn: TurnServer) -> None:
    quota = user_quota()
    # Two credentials of one participant (two welcomes, two expiries): one user for coturn.
    first = shipped_turn.credentials("p-ann", ttl=600)
    second = shipped_turn.credentials("p-ann", ttl=900)
    assert first[0] != second[0]
    greedy = fill(shipped_turn, [first, second], attempts=quota + HEADROOM)
    other: list[Allocation] = []
    try:
        refused = [a for a in greedy if not a.ok]
        assert refused, f"{len(greedy)} allocations for one user and none refused: no per-user quota"
        assert (len(greedy) - 1, refused[0].error) == (quota, QUOTA_REACHED), refused[0].reason
        # Another participant is not affected.
        other = [allocate(shipped_turn.address, *shipped_turn.credentials("p-bea")) for _ in range(3)]
        assert all(a.ok for a in other), [(a.error, a.reason) for a in other]
    finally:
        close_all(greedy + other)


async def test_participants_and_check_links_each_get_one_quota(
    start_server: StartServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Through Hearth: a participant's ``welcome`` credentials and one link's connection-check
    credentials (however many it asks for) are each held to one quota; others still allocate."""
    quota = user_quota()
    directory = tmp_path_factory.mktemp("turn")
    turn = TurnServer(directory, relay_ports=2 * quota + HEADROOM, config=SHIPPED_CONFIG)
    turn.start()
    allocations: list[Allocation] = []
    try:
        server = await start_server(turn_urls=turn.url, turn_secret=turn.secret)
        room, fran, (ann, bea) = await server.live_room("Ann", "Bea")
        welcome = {c.id: (c.welcome or {})["ice_servers"][0] for c in (fran, ann, bea)}
        users = {who: creds["username"].split(":", 1)[1] for who, creds in welcome.items()}
        assert users == {who: who for who in welcome}  # one TURN user per participant

        def credential(ice: dict[str, str]) -> tuple[str, str]:
            return ice["username"], ice["credential"]

        # One link asks for check credentials several times: they all share one TURN user.
        async with server.http() as http:
            configs = [
                (await http.post("/api/check/config", json={"token": room.member})).json() for _ in range(3)
            ]
            facilitator = (await http.post("/api/check/config", json={"token": room.facilitator})).json()
        checks = [credential(c["ice_servers"][0]) for c in configs]
        link_users = {username.split(":", 1)[1] for username, _ in checks}
        assert len(link_users) == 1 and link_users.pop().startswith(f"check-{room.id}-")
        expiry = int(checks[0][0].split(":", 1)[0])
        assert expiry <= time.time() + server.settings.check_turn_ttl + 1  # short-lived

        greedy = fill(turn, checks, attempts=quota + HEADROOM)
        allocations += greedy
        assert [a.error for a in greedy[-1:]] == [QUOTA_REACHED] and len(greedy) - 1 == quota
        # The facilitator link's check and every participant still get relays.
        for ice in (facilitator["ice_servers"][0], *welcome.values()):
            allocations.append(allocate(turn.address, *credential(ice)))
            assert allocations[-1].ok, (allocations[-1].error, allocations[-1].reason)
        # A participant is held to the quota too (ann already has one allocation).
        greedy = fill(turn, [credential(welcome[ann.id])], attempts=quota + HEADROOM)
        allocations += greedy
        assert [a.error for a in greedy[-1:]] == [QUOTA_REACHED] and len(greedy) == quota
        last = allocate(turn.address, *credential(welcome[bea.id]))
        allocations.append(last)
        assert last.ok, (last.error, last.reason)
    finally:
        close_all(allocations)
        turn.stop()

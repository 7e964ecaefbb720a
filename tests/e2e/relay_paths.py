"""What the ICE agents of a relayed test actually used, so a test can show its media went
through coturn on 127.0.0.1: every candidate pair a browser (or the server's echo peer) formed
joins two TURN relay candidates on 127.0.0.1.

Firefox gathers no loopback host candidates here (its interfaces come from netlink; its loopback
pref does not add them), so its tests run relay-only through a coturn on 127.0.0.1
(tests/turn.py): with ``iceTransportPolicy: "relay"`` a browser's only ICE packets go to the TURN
server. Firefox skips a TURN server on a loopback address unless ``media.peerconnection.ice.loopback``
is set (tests/firefox/driver.mjs sets it).
"""

from __future__ import annotations

from typing import Any

from aiortc import RTCPeerConnection

# An async function of an RTCPeerConnection: its candidate pairs, each as the type and address
# of both ends (Chromium and Firefox name the address `address`; older ones `ip`).
PAIRS_JS = """async (pc) => {
  const report = await pc.getStats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  const end = (c) => (c ? { type: c.candidateType, address: c.address ?? c.ip ?? null } : null);
  const pairs = [];
  report.forEach((s) => {
    if (s.type !== "candidate-pair") return;
    const local = end(byId.get(s.localCandidateId));
    pairs.push({ state: s.state, local, remote: end(byId.get(s.remoteCandidateId)) });
  });
  return pairs;
}"""


def relayed_on_loopback(pairs: list[dict[str, Any]]) -> bool:
    """Whether there is a succeeded pair, and every pair joins relay candidates on 127.0.0.1.

    A remote end may be peer-reflexive on 127.0.0.1: the other side's relay candidate, learned
    from its connectivity check before its trickled candidate arrived (seen once in a full run).
    Every local end must be a relay candidate: this side sends only through the TURN server."""
    relay = {"type": "relay", "address": "127.0.0.1"}
    learned = {"type": "prflx", "address": "127.0.0.1"}
    relayed = all(
        pair["local"] == relay and pair["remote"] is not None and pair["remote"] in (relay, learned)
        for pair in pairs
    )
    return relayed and any(pair["state"] == "succeeded" for pair in pairs)


def echo_pairs(pc: RTCPeerConnection) -> list[dict[str, Any]]:
    """The server echo peer's nominated pairs (aioice), in ``PAIRS_JS``'s shape."""
    pairs: list[dict[str, Any]] = []
    for transceiver in pc.getTransceivers():
        connection = transceiver.receiver.transport.transport.iceGatherer._connection
        for pair in connection._nominated.values():
            local, remote = pair.local_candidate, pair.remote_candidate
            pairs.append(
                {
                    "state": "succeeded",
                    "local": {"type": local.type, "address": local.host},
                    "remote": {"type": remote.type, "address": remote.host},
                }
            )
    return pairs

// @ts-check
/**
 * The connection check: one RTCPeerConnection from this page to the server's echo peer
 * (`POST /api/check/config`, then `POST /api/check`), configured with the room's ICE servers and
 * policy, sending the preview's camera and microphone and receiving them back. No DOM.
 *
 * Not trickled: the offer is sent once ICE gathering is complete (at most 5 s), and the
 * server's answer carries all its candidates.
 */

import { rtcpRoundTrip } from "./rtcstats.js";

const GATHER_MS = 5000;

/** Why a check could not start: `unauthorized` (bad link), `busy` (all slots taken),
 * `unavailable` (turned off or not starting), `unreachable` (no answer from the server),
 * `failed` (anything else). */
export class CheckError extends Error {
  /** @param {"unauthorized" | "busy" | "unavailable" | "unreachable" | "failed"} kind @param {string} message */
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

/**
 * @typedef {object} CheckStats
 * @property {number} framesDecoded echoed video frames decoded
 * @property {number} frameWidth width of the latest echoed frame
 * @property {number} audioPackets echoed audio packets received
 * @property {number} audioLevel inbound-rtp audioLevel of the echoed sound (0..1)
 * @property {number | null} rtt round-trip time of the connection in use (ms), when measured: the
 *   candidate pair's `currentRoundTripTime`, else RTCP's (`rtcpRoundTrip`: Firefox ESR 140)
 * @property {"direct" | "relayed" | null} path relayed when either end of the pair in use is a
 *   TURN relay candidate; direct for host, srflx and prflx pairs
 * @property {string | null} localCandidateType this page's candidate type on the pair in use
 * @property {string} connectionState the RTCPeerConnection's connectionState
 */

/** @param {string} url @param {object} body @returns {Promise<any>} */
async function post(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST", cache: "no-store", headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new CheckError("unreachable", "the server cannot be reached");
  }
  const data = await response.json().catch(() => ({}));
  if (response.ok) return data;
  const message = data?.error?.message ?? `HTTP ${response.status}`;
  if (response.status === 401) throw new CheckError("unauthorized", message);
  if (response.status === 429) throw new CheckError("busy", message);
  if (response.status === 503) throw new CheckError("unavailable", message);
  throw new CheckError("failed", message);
}

/** @param {RTCPeerConnection} pc */
function gathered(pc) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") { resolve(undefined); return; }
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      clearTimeout(timer);
      resolve(undefined);
    };
    const timer = setTimeout(() => { pc.removeEventListener("icegatheringstatechange", done); resolve(undefined); },
      GATHER_MS);
    pc.addEventListener("icegatheringstatechange", done);
  });
}

export class EchoCheck {
  /**
   * @param {{token: string, stream: MediaStream, onStream: (stream: MediaStream) => void}} options
   * `stream`: the preview's tracks to send; `onStream`: the echoed stream, once tracks arrive.
   */
  constructor(options) {
    this.token = options.token;
    this.stream = options.stream;
    this.onStream = options.onStream;
    /** @type {RTCPeerConnection | null} */
    this.pc = null;
    /** The server's id of this check (for DELETE), once it answered. */
    this.id = /** @type {string | null} */ (null);
    this.echoed = new MediaStream();
    this.stopped = false;
    /** What this page sends: the check expects these kinds back. */
    this.sending = { audio: false, video: false };
  }

  /** Configure, offer, answer. Throws `CheckError`. */
  async start() {
    const config = await post("/api/check/config", { token: this.token });
    if (this.stopped) return;
    const pc = new RTCPeerConnection({
      iceServers: config.ice_servers ?? [],
      iceTransportPolicy: config.ice_transport_policy === "relay" ? "relay" : "all",
    });
    this.pc = pc;
    pc.addEventListener("track", (event) => {
      this.echoed.addTrack(event.track);
      this.onStream(this.echoed);
    });
    const audio = this.stream.getAudioTracks()[0];
    const video = this.stream.getVideoTracks()[0];
    if (audio) pc.addTransceiver(audio, { direction: "sendrecv", streams: [this.stream] });
    // Half the preview's size is plenty to see yourself and is cheap for the server to echo.
    if (video) pc.addTransceiver(video, {
      direction: "sendrecv", streams: [this.stream],
      sendEncodings: [{ maxBitrate: 400_000, scaleResolutionDownBy: 2 }],
    });
    // Nothing to send: still test the path, receiving only.
    if (!audio && !video) pc.addTransceiver("audio", { direction: "recvonly" });
    this.sending = { audio: Boolean(audio), video: Boolean(video) };
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    if (this.stopped) return;
    const local = /** @type {RTCSessionDescription} */ (pc.localDescription);
    const answer = await post("/api/check", { token: this.token, sdp: local.sdp, type: local.type });
    this.id = answer.id;
    if (this.stopped) { this.forget(); return; }
    await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
  }

  /** Replace a sent track (a new device chosen while the check runs). @param {MediaStreamTrack} track */
  replaceTrack(track) {
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === track.kind);
    sender?.replaceTrack(track).catch(() => {});
  }

  /** @returns {Promise<CheckStats>} */
  async stats() {
    /** @type {CheckStats} */
    const result = {
      framesDecoded: 0, frameWidth: 0, audioPackets: 0, audioLevel: 0, rtt: null, path: null,
      localCandidateType: null, connectionState: this.pc?.connectionState ?? "new",
    };
    if (!this.pc) return result;
    const report = await this.pc.getStats();
    /** @type {Map<string, any>} */
    const byId = new Map();
    /** @type {string | null} */
    let selected = null;
    report.forEach((/** @type {any} */ s) => {
      byId.set(s.id, s);
      if (s.type === "inbound-rtp" && s.kind === "video") {
        result.framesDecoded += s.framesDecoded ?? 0;
        result.frameWidth = s.frameWidth ?? result.frameWidth;
      } else if (s.type === "inbound-rtp" && s.kind === "audio") {
        result.audioPackets += s.packetsReceived ?? 0;
        result.audioLevel = Math.max(result.audioLevel, s.audioLevel ?? 0);
      } else if (s.type === "transport" && s.selectedCandidatePairId) {
        selected = s.selectedCandidatePairId;
      }
    });
    // The pair in use: the transport's selected pair, else the nominated, succeeded one (Firefox
    // ESR 140 has no transport entry).
    let pair = selected ? byId.get(selected) : undefined;
    if (!pair) {
      for (const s of byId.values()) if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s;
    }
    if (pair) {
      if (typeof pair.currentRoundTripTime === "number") result.rtt = Math.round(pair.currentRoundTripTime * 1000);
      const local = byId.get(pair.localCandidateId);
      const remote = byId.get(pair.remoteCandidateId);
      result.localCandidateType = local?.candidateType ?? null;
      if (local?.candidateType) {
        result.path = local.candidateType === "relay" || remote?.candidateType === "relay" ? "relayed" : "direct";
      }
    }
    if (result.rtt === null) result.rtt = rtcpRoundTrip(report);
    return result;
  }

  /** Close the connection and tell the server (which would also end it by itself). */
  stop() {
    if (this.stopped) return;
    this.stopped = true;
    this.pc?.close();
    this.forget();
  }

  forget() {
    if (!this.id) return;
    const id = this.id;
    this.id = null;
    fetch(`/api/check/${encodeURIComponent(id)}`, {
      method: "DELETE", keepalive: true, headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: this.token }),
    }).catch(() => {});
  }
}

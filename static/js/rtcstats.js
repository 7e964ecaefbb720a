// @ts-check
/**
 * Stats helpers for both media paths (behind the test hooks `window.hearth.mesh.stats()` and
 * `outboundStats()`): the mesh's Map of participant id -> {pc}, or the SFU's one subscriber
 * connection whose streams belong to many participants.
 *
 * Chromium computes inbound-rtp `audioLevel` after the playout volume: while this page mutes a
 * participant's element (floor enforcement) it reads 0 even when their sound arrives. So
 * `audioLevel` is the larger of that value and the peak of a WebAudio tap on the received
 * track (which hears what arrives, muted element or not); `rtpAudioLevel` is the raw value.
 */
import { audioContext } from "./media.js";

/** Peak level of received audio, from a lazily made analyser per participant (no output). */
export class AudioTaps {
  constructor() {
    /** @type {Map<string, {track: MediaStreamTrack, analyser: AnalyserNode, source: MediaStreamAudioSourceNode}>} */
    this.taps = new Map();
    this.samples = new Float32Array(32768); // about 0.7 s at 48 kHz
  }

  /** @param {string} id @param {MediaStream | undefined} stream */
  level(id, stream) {
    const track = stream?.getAudioTracks()[0];
    if (!track) return 0;
    let tap = this.taps.get(id);
    if (!tap || tap.track !== track) {
      tap?.source.disconnect();
      const ctx = audioContext();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = this.samples.length;
      const source = ctx.createMediaStreamSource(new MediaStream([track]));
      source.connect(analyser);
      tap = { track, analyser, source };
      this.taps.set(id, tap);
    }
    tap.analyser.getFloatTimeDomainData(this.samples);
    let peak = 0;
    for (const sample of this.samples) peak = Math.max(peak, Math.abs(sample));
    return Math.min(1, peak);
  }

  /** @param {Iterable<string>} keep */
  prune(keep) {
    const wanted = new Set(keep);
    for (const [id, tap] of this.taps) if (!wanted.has(id)) { tap.source.disconnect(); this.taps.delete(id); }
  }
}

/**
 * @typedef {object} InboundStats
 * @property {number} framesDecoded video frames decoded from this participant
 * @property {number} audioLevel audio level arriving from this participant (0..1; see above)
 * @property {number} rtpAudioLevel inbound-rtp audioLevel as the browser reports it
 * @property {number} bytesReceived audio and video bytes received from this participant
 * @property {number} totalAudioEnergy audio energy received so far (rises while someone is heard)
 * @property {number} frameWidth width of the latest decoded video frame
 * @property {number} audioPacketsReceived audio RTP packets received from this participant (stops
 *   growing when the SFU stops forwarding them)
 * @property {string} connectionState the RTCPeerConnection's connectionState
 */

/**
 * @typedef {object} OutboundStats
 * @property {number} videoBytesSent summed over every connection
 * @property {number} audioBytesSent summed over every connection
 * @property {number | null} videoMaxBitrate the largest maxBitrate set on a video sender, or
 *   null when some video sender has no limit (full quality)
 * @property {number} videoSenders how many video senders were counted
 */

/** @typedef {Map<string, {pc: RTCPeerConnection}>} Peers */

/** @param {RTCPeerConnectionState} connectionState @returns {InboundStats} */
function emptyInbound(connectionState) {
  return { framesDecoded: 0, audioLevel: 0, rtpAudioLevel: 0, bytesReceived: 0, totalAudioEnergy: 0, frameWidth: 0,
    audioPacketsReceived: 0, connectionState };
}

/** Add one inbound-rtp stat to a participant's entry. @param {InboundStats} entry @param {any} stat */
function addInbound(entry, stat) {
  entry.bytesReceived += stat.bytesReceived ?? 0;
  if (stat.kind === "video") {
    entry.framesDecoded += stat.framesDecoded ?? 0;
    entry.frameWidth = Math.max(entry.frameWidth, stat.frameWidth ?? 0);
  } else if (stat.kind === "audio") {
    entry.rtpAudioLevel = Math.max(entry.rtpAudioLevel, stat.audioLevel ?? 0);
    entry.totalAudioEnergy += stat.totalAudioEnergy ?? 0;
    entry.audioPacketsReceived += stat.packetsReceived ?? 0;
  }
}

/** audioLevel: the larger of the rtp value and the tap (see the module comment).
 * @param {InboundStats} entry @param {string} id @param {(id: string) => number} tapLevel */
function finishInbound(entry, id, tapLevel) {
  let tapped = 0;
  try { tapped = tapLevel(id); } catch { /* no WebAudio: the rtp value alone */ }
  entry.audioLevel = Math.max(entry.rtpAudioLevel, tapped);
}

/**
 * Inbound media per remote participant id.
 * @param {Peers} peers @param {(id: string) => number} [tapLevel] received audio peak per participant
 * @returns {Promise<Record<string, InboundStats>>}
 */
export async function inboundStats(peers, tapLevel = () => 0) {
  /** @type {Record<string, InboundStats>} */
  const result = {};
  await Promise.all([...peers].map(async ([id, peer]) => {
    const entry = emptyInbound(peer.pc.connectionState);
    const report = await peer.pc.getStats();
    report.forEach((stat) => { if (stat.type === "inbound-rtp") addInbound(entry, stat); });
    finishInbound(entry, id, tapLevel);
    result[id] = entry;
  }));
  return result;
}

/**
 * Inbound media on one connection that carries many participants (the SFU's subscriber
 * connection), per participant: `ownerOf` names whose stream an inbound-rtp stat is (by its
 * `mid`, or its track), `ids` are everyone who has a stream on it (an entry even before stats).
 * @param {RTCPeerConnection | null} pc @param {(stat: any) => string | undefined} ownerOf
 * @param {Iterable<string>} ids @param {(id: string) => number} [tapLevel]
 * @returns {Promise<Record<string, InboundStats>>}
 */
export async function inboundStatsByOwner(pc, ownerOf, ids, tapLevel = () => 0) {
  /** @type {Record<string, InboundStats>} */
  const result = {};
  for (const id of ids) result[id] = emptyInbound(pc?.connectionState ?? "closed");
  if (!pc) return result;
  const report = await pc.getStats();
  report.forEach((stat) => {
    if (stat.type !== "inbound-rtp") return;
    const entry = result[ownerOf(stat) ?? ""];
    if (entry) addInbound(entry, stat);
  });
  for (const [id, entry] of Object.entries(result)) finishInbound(entry, id, tapLevel);
  return result;
}

/** Outbound media summed over every connection. @param {Peers} peers @returns {Promise<OutboundStats>} */
export async function outboundStats(peers) {
  const result = { videoBytesSent: 0, audioBytesSent: 0, videoMaxBitrate: /** @type {number | null} */ (0),
    videoSenders: 0 };
  let unlimited = false;
  await Promise.all([...peers.values()].map(async (peer) => {
    for (const sender of peer.pc.getSenders()) {
      if (sender.track?.kind !== "video") continue;
      result.videoSenders += 1;
      const limit = sender.getParameters().encodings?.[0]?.maxBitrate;
      if (limit === undefined) unlimited = true;
      else result.videoMaxBitrate = Math.max(result.videoMaxBitrate ?? 0, limit);
    }
    const report = await peer.pc.getStats();
    report.forEach((stat) => {
      if (stat.type !== "outbound-rtp") return;
      if (stat.kind === "video") result.videoBytesSent += stat.bytesSent ?? 0;
      else if (stat.kind === "audio") result.audioBytesSent += stat.bytesSent ?? 0;
    });
  }));
  if (unlimited || result.videoSenders === 0) result.videoMaxBitrate = null;
  return result;
}

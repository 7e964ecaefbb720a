// @ts-check
/**
 * Mesh WebRTC: one connection (negotiation.js) per other admitted participant, local tracks,
 * receiver muting (floor enforcement) and floor-aware sender quality.
 *
 * Politeness rule: the participant whose id sorts first (plain string comparison) is polite
 * (details in negotiation.js).
 *
 * Connection tags: every signal carries `pc` (a random tag of the sender's connection) and
 * `peer_pc` (the tag it last heard from the receiver, or null). A signal from an unknown tag
 * addressed to no tag of ours (`peer_pc: null`) means the other side started a new connection
 * (a reload, or a resume after a dropped socket): we replace ours to match. A signal addressed
 * to an older tag of ours is stale and dropped. Signals without tags (bots) go to the current
 * connection.
 */
import { PeerLink } from "./negotiation.js";
import { RemotePlayback } from "./playback.js";
import { AudioTaps, inboundStats, outboundStats } from "./rtcstats.js";

/** @typedef {import("./playback.js").MediaPath} MediaPath */

const REDUCED_VIDEO = { maxBitrate: 150_000, scaleResolutionDownBy: 2 };
/** floor-aware quality applies in rooms of more than this many participants */
export const REDUCED_QUALITY_ABOVE = 4;

/** @implements {MediaPath} */
export class Mesh extends RemotePlayback {
  /** @param {{sendSignal: (to: string, data: object) => void}} options */
  constructor(options) {
    super();
    /** @type {"mesh"} */
    this.path = "mesh";
    this.sendSignal = options.sendSignal;
    this.selfId = "";
    /** @type {RTCConfiguration} */
    this.config = {};
    /** @type {MediaStream | null} */
    this.localStream = null;
    /** @type {Map<string, PeerLink>} */
    this.peers = new Map();
    /** @type {Set<string>} participants who are admitted and connected */
    this.present = new Set();
    this.reduceVideo = false;
    /** analysers on received audio, made only when stats() is called */
    this.taps = new AudioTaps();
    /** trace negotiation in the console (localStorage "hearth:debug" = "1") */
    this.debug = (() => { try { return localStorage.getItem("hearth:debug") === "1"; } catch { return false; } })();
  }

  /** Start over after a welcome: close every connection; `reconcile` makes new ones.
   * @param {string} selfId @param {RTCIceServer[]} iceServers @param {RTCIceTransportPolicy} policy */
  reset(selfId, iceServers, policy) {
    this.closeAll();
    this.selfId = selfId;
    this.config = { iceServers, iceTransportPolicy: policy };
  }

  /** @param {MediaStream} stream */
  setLocalStream(stream) { this.localStream = stream; }
  localAudioTrack() { return this.localStream?.getAudioTracks()[0] ?? null; }
  localVideoTrack() { return this.localStream?.getVideoTracks()[0] ?? null; }

  /** @param {...unknown} words */
  trace(...words) {
    if (this.debug) console.debug("hearth/rtc", ...words);
  }

  /** Connect to every admitted, connected participant; drop those who left.
   * @param {Iterable<{id: string, connected: boolean}>} participants */
  reconcile(participants) {
    const admitted = new Set();
    this.present.clear();
    for (const p of participants) {
      if (p.id === this.selfId) continue;
      admitted.add(p.id);
      if (!p.connected) continue;
      this.present.add(p.id);
      if (!this.peers.has(p.id)) this.createPeer(p.id, null, true);
    }
    for (const id of [...this.peers.keys()]) if (!admitted.has(id)) this.closePeer(id);
    for (const id of [...this.remoteStreams.keys()]) if (!admitted.has(id)) this.remoteStreams.delete(id);
  }

  /** @param {string} id @param {string | null} remoteTag @param {boolean} spontaneous */
  createPeer(id, remoteTag, spontaneous) {
    this.closePeer(id);
    /** @type {PeerLink} */
    const link = new PeerLink({
      id, polite: this.selfId < id, config: this.config, stream: this.localStream,
      send: (data) => { if (this.peers.get(id) === link) this.sendSignal(id, data); },
      onTrack: (track, stream) => this.onRemoteTrack(id, track, stream),
      onConnected: () => this.applyQuality(link),
      onStuck: () => { if (this.peers.get(id) === link && this.present.has(id)) this.createPeer(id, null, true); },
      trace: (...words) => this.trace(...words),
    });
    link.remoteTag = remoteTag;
    this.peers.set(id, link);
    this.trace("create", id, link.tag, link.polite ? "polite" : "impolite", "remote", remoteTag);
    if (spontaneous) link.start();
    return link;
  }

  /** @param {string} id */
  closePeer(id) {
    const link = this.peers.get(id);
    if (!link) return;
    this.peers.delete(id);
    link.close();
  }

  closeAll() {
    for (const id of [...this.peers.keys()]) this.closePeer(id);
  }

  /** A `signal` frame from another participant. @param {string} from @param {any} data */
  handleSignal(from, data) {
    if (!data || typeof data !== "object" || from === this.selfId || !this.selfId) return;
    let link = this.peers.get(from);
    const tag = typeof data.pc === "string" ? data.pc : null;
    const addressed = typeof data.peer_pc === "string" ? data.peer_pc : null;
    const isOffer = data.description?.type === "offer";
    this.trace("recv", from, tag, "->", addressed, data.description?.type ?? (data.hello ? "hello" : "candidate"));
    if (addressed !== null && addressed !== link?.tag) return; // for an older connection of ours
    if (!link) {
      link = this.createPeer(from, tag, !isOffer);
    } else if (tag !== null && link.remoteTag === null) {
      link.remoteTag = tag;
    } else if (tag !== null && tag !== link.remoteTag) {
      if (addressed === null) link = this.createPeer(from, tag, !isOffer); // they started over
      else link.remoteTag = tag;
    }
    if (!data.hello) link.receive(data);
  }

  /** @param {string} id @param {MediaStreamTrack} track @param {MediaStream | undefined} stream */
  onRemoteTrack(id, track, stream) {
    let current = this.remoteStreams.get(id);
    if (stream) {
      current = stream;
    } else {
      const others = (current?.getTracks() ?? []).filter((t) => t.kind !== track.kind);
      current = new MediaStream([...others, track]);
    }
    this.remoteStreams.set(id, current);
    this.refreshElement(id);
  }

  /** Floor-aware quality: in a room of more than 4, everyone but the floor holder sends reduced
   * video. Called whenever the floor or the number of participants changes.
   * @param {boolean} holdsFloor @param {number} participantCount */
  setQuality(holdsFloor, participantCount) {
    const reduce = participantCount > REDUCED_QUALITY_ABOVE && !holdsFloor;
    if (reduce === this.reduceVideo) return;
    this.reduceVideo = reduce;
    for (const link of this.peers.values()) this.applyQuality(link);
  }

  /** @param {PeerLink} link */
  async applyQuality(link) {
    for (const sender of link.pc.getSenders()) {
      if (sender.track?.kind !== "video") continue;
      const params = sender.getParameters();
      if (!params.encodings || params.encodings.length === 0) continue;
      const [encoding] = params.encodings;
      const wanted = this.reduceVideo ? REDUCED_VIDEO : null;
      if (wanted ? encoding.maxBitrate === wanted.maxBitrate : encoding.maxBitrate === undefined) continue;
      if (wanted) Object.assign(encoding, wanted);
      else { delete encoding.maxBitrate; encoding.scaleResolutionDownBy = 1; }
      try { await sender.setParameters(params); } catch (err) { this.trace("setParameters", err); }
    }
  }

  /** Test hook and diagnostics: inbound media per remote participant. */
  stats() {
    this.taps.prune(this.peers.keys());
    return inboundStats(this.peers, (id) => this.taps.level(id, this.remoteStreams.get(id)));
  }

  /** Test hook and diagnostics: outbound media summed over every connection. */
  outboundStats() { return outboundStats(this.peers); }
}

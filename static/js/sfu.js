// @ts-check
/**
 * SFU mode: media through the group's media server (Janus, driven only by Hearth's server).
 * Same interface as the mesh (`MediaPath`, playback.js), so the room page and the test hooks
 * work in both modes.
 *
 * Two connections, both with the welcome's ICE servers and policy (relay-only still holds):
 * - the publisher (`pub`): send only; audio transceiver first, then video with three simulcast
 *   layers (rids h, m, l at full, half and quarter resolution). We offer, the server answers.
 * - the subscriber (`sub`): receive only; the server offers (again whenever feeds come or go),
 *   naming whose stream each `mid` carries (`streams`); we answer. Tracks are given to
 *   participants by mid after every offer, so a mid the server reuses for someone else moves.
 * Candidates trickle both ways on the Hearth websocket (`client.sfu(pc, data)`); every wire
 * object is built in protocol.js. `{restart: true}` (the media server changed) closes both and
 * publishes again; the server then offers a new subscription by itself.
 *
 * Every welcome (a first join, a resumed websocket) starts both over, as the mesh does: the
 * server gives each socket its own media-server session, and offers a subscription once we
 * publish or are let in. Which layer each person receives is the server's choice (the floor
 * holder and a pinned person high, the rest low), so `setQuality` has nothing to do here.
 * Receivers still mute whoever may not speak.
 */
import { RemotePlayback } from "./playback.js";
import { AudioTaps, inboundStatsByOwner, outboundStats } from "./rtcstats.js";

/** @typedef {import("./playback.js").MediaPath} MediaPath */
/** @typedef {import("./protocol.js").SfuFrame} SfuFrame */
/** @typedef {{description: RTCSessionDescriptionInit} | {candidate: RTCIceCandidateInit | null}} SfuData */
/** @typedef {{pc: RTCPeerConnection, chain: Promise<void>}} Link */

/** Simulcast layers, highest first (the order Janus expects); caps keep a home upload modest. */
export const SIMULCAST = Object.freeze([
  { rid: "h", scaleResolutionDownBy: 1, maxBitrate: 900_000 },
  { rid: "m", scaleResolutionDownBy: 2, maxBitrate: 300_000 },
  { rid: "l", scaleResolutionDownBy: 4, maxBitrate: 100_000 },
]);
/** a publisher connection that failed is replaced after this long */
const REPUBLISH_MS = 2000;

/** @implements {MediaPath} */
export class Sfu extends RemotePlayback {
  /** @param {{send: (pc: "pub" | "sub", data: SfuData) => void}} options */
  constructor(options) {
    super();
    /** @type {"sfu"} */
    this.path = "sfu";
    this.send = options.send;
    this.selfId = "";
    /** @type {RTCConfiguration} */
    this.config = {};
    /** @type {MediaStream | null} */
    this.localStream = null;
    /** @type {Link | null} */
    this.pub = null;
    /** @type {Link | null} */
    this.sub = null;
    /** @type {Map<string, {participant: string, kind: string}>} the latest subscriber offer's streams by mid */
    this.streams = new Map();
    /** @type {Map<string, string>} receiver track id -> participant, after the latest offer */
    this.trackOwners = new Map();
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.republishTimer = null;
    this.taps = new AudioTaps();
    this.debug = (() => { try { return localStorage.getItem("hearth:debug") === "1"; } catch { return false; } })();
  }

  /** @param {...unknown} words */
  trace(...words) {
    if (this.debug) console.debug("hearth/sfu", ...words);
  }

  /** After every welcome: start over (the server gives a new socket a new media-server session).
   * @param {string} selfId @param {RTCIceServer[]} iceServers @param {RTCIceTransportPolicy} policy */
  reset(selfId, iceServers, policy) {
    this.closeAll();
    this.selfId = selfId;
    this.config = { iceServers, iceTransportPolicy: policy, bundlePolicy: "max-bundle" };
  }

  /** @param {MediaStream} stream */
  setLocalStream(stream) { this.localStream = stream; }
  localAudioTrack() { return this.localStream?.getAudioTracks()[0] ?? null; }
  localVideoTrack() { return this.localStream?.getVideoTracks()[0] ?? null; }

  /** The server decides whom we receive; here we only make sure we publish once in the room.
   * @param {Iterable<{id: string, connected: boolean}>} participants */
  reconcile(participants) {
    void participants;
    this.publish();
  }

  /** Offer our tracks to the media server (nothing to publish without a microphone or camera). */
  publish() {
    const stream = this.localStream;
    if (!this.selfId || this.pub || !stream || stream.getTracks().length === 0) return;
    const pc = new RTCPeerConnection(this.config);
    /** @type {Link} */
    const link = { pc, chain: Promise.resolve() };
    this.pub = link;
    pc.addTransceiver(this.localAudioTrack() ?? "audio", { direction: "sendonly", streams: [stream] });
    pc.addTransceiver(this.localVideoTrack() ?? "video", { direction: "sendonly", streams: [stream],
      sendEncodings: SIMULCAST.map((layer) => ({ ...layer })) });
    this.wire("pub", link);
    pc.onconnectionstatechange = () => {
      this.trace("pub", pc.connectionState);
      if (pc.connectionState === "failed" && this.pub === link) this.republishSoon();
    };
    link.chain = link.chain.then(async () => {
      await pc.setLocalDescription();
      if (this.pub === link && pc.localDescription) this.send("pub", { description: pc.localDescription.toJSON() });
    }).catch((err) => console.warn("hearth: could not offer to the media server", err));
  }

  republishSoon() {
    if (this.republishTimer) return;
    this.republishTimer = setTimeout(() => {
      this.republishTimer = null;
      if (this.pub?.pc.connectionState !== "failed") return;
      this.closeLink(this.pub);
      this.pub = null;
      this.publish();
    }, REPUBLISH_MS);
  }

  /** Trickle this connection's candidates to the server. @param {"pub" | "sub"} name @param {Link} link */
  wire(name, link) {
    link.pc.onicecandidate = ({ candidate }) => {
      if (this[name] === link) this.send(name, { candidate: candidate ? candidate.toJSON() : null });
    };
  }

  /** A server `sfu` frame. @param {SfuFrame} frame */
  handleSfu(frame) {
    if (!frame || typeof frame !== "object" || !this.selfId) return;
    if (frame.restart) { this.restart(); return; }
    if (frame.speaking !== undefined) { this.onSpeaking(frame.speaking ?? null); return; }
    if (frame.pc === "pub") this.onPublisher(frame);
    else if (frame.pc === "sub") this.onSubscriber(frame);
  }

  /** @param {SfuFrame} frame */
  onPublisher(frame) {
    const link = this.pub;
    if (!link) return;
    link.chain = link.chain.then(async () => {
      if (this.pub !== link || link.pc.signalingState === "closed") return;
      if (frame.description?.type === "answer") await link.pc.setRemoteDescription(frame.description);
      else if (frame.candidate !== undefined) await this.addCandidate(link, frame.candidate);
    }).catch((err) => console.warn("hearth: the media server's answer could not be applied", err));
  }

  /** @param {SfuFrame} frame */
  onSubscriber(frame) {
    const { description, candidate } = frame;
    if (description?.type === "offer") {
      const link = this.sub ?? this.newSubscriber();
      link.chain = link.chain.then(() => this.answer(link, description, frame.streams ?? []))
        .catch((err) => console.warn("hearth: the media server's offer could not be answered", err));
    } else if (candidate !== undefined && this.sub) {
      const link = this.sub;
      link.chain = link.chain.then(() => this.addCandidate(link, candidate)).catch(() => {});
    }
  }

  newSubscriber() {
    /** @type {Link} */
    const link = { pc: new RTCPeerConnection(this.config), chain: Promise.resolve() };
    this.sub = link;
    this.wire("sub", link);
    link.pc.onconnectionstatechange = () => this.trace("sub", link.pc.connectionState);
    return link;
  }

  /**
   * Apply a subscriber offer and answer it. An offer the current connection cannot take (the
   * server started a new subscription for it) is answered on a fresh connection.
   * @param {Link} link @param {RTCSessionDescriptionInit} offer
   * @param {{mid: string, participant: string, kind: string}[]} streams
   * @returns {Promise<void>}
   */
  async answer(link, offer, streams) {
    if (this.sub !== link) return;
    try {
      await link.pc.setRemoteDescription(offer);
    } catch (err) {
      if (!link.pc.remoteDescription) throw err;
      this.trace("offer refused by the current connection: a new one", err);
      this.closeLink(link);
      const fresh = this.newSubscriber();
      fresh.chain = link.chain; // frames after this offer wait for it, on the new connection
      return this.answer(fresh, offer, streams);
    }
    this.streams = new Map(streams.map((s) => [String(s.mid), { participant: s.participant, kind: s.kind }]));
    await link.pc.setLocalDescription();
    if (this.sub !== link || !link.pc.localDescription) return;
    this.send("sub", { description: link.pc.localDescription.toJSON() });
    this.assignTracks();
  }

  /** @param {Link} link @param {RTCIceCandidateInit | null} candidate */
  async addCandidate(link, candidate) {
    if (!link.pc.remoteDescription) return;
    await link.pc.addIceCandidate(candidate ?? undefined);
  }

  /** Give each participant the receiver tracks of their mids (a new stream when they change). */
  assignTracks() {
    /** @type {Map<string, MediaStreamTrack[]>} */
    const tracks = new Map();
    this.trackOwners.clear();
    for (const transceiver of this.sub?.pc.getTransceivers() ?? []) {
      const info = transceiver.mid === null ? undefined : this.streams.get(transceiver.mid);
      const direction = transceiver.currentDirection;
      if (!info || (direction !== "recvonly" && direction !== "sendrecv")) continue;
      const track = transceiver.receiver.track;
      if (track.kind !== info.kind) continue;
      this.trackOwners.set(track.id, info.participant);
      tracks.set(info.participant, [...(tracks.get(info.participant) ?? []), track]);
    }
    for (const [id, list] of tracks) {
      const current = this.remoteStreams.get(id)?.getTracks() ?? [];
      if (current.length === list.length && list.every((t) => current.includes(t))) continue;
      this.remoteStreams.set(id, new MediaStream(list));
      this.refreshElement(id);
    }
    for (const id of [...this.remoteStreams.keys()]) {
      if (tracks.has(id)) continue;
      this.remoteStreams.delete(id);
      this.refreshElement(id);
    }
  }

  /** The media server changed: start both connections over. */
  restart() {
    this.trace("restart");
    const selfId = this.selfId;
    this.closeAll();
    this.selfId = selfId;
    this.publish();
  }

  /** @param {Link | null} link */
  closeLink(link) {
    if (!link) return;
    const { pc } = link;
    pc.onicecandidate = pc.onconnectionstatechange = null;
    pc.close();
  }

  closeAll() {
    if (this.republishTimer) clearTimeout(this.republishTimer);
    this.republishTimer = null;
    this.closeLink(this.pub);
    this.closeLink(this.sub);
    this.pub = this.sub = null;
    this.streams.clear();
    this.trackOwners.clear();
    for (const id of [...this.remoteStreams.keys()]) {
      this.remoteStreams.delete(id);
      this.refreshElement(id);
    }
    this.onSpeaking(null);
    this.selfId = "";
  }

  /** The media server picks each receiver's layer: nothing to change at the sender.
   * @param {boolean} holdsFloor @param {number} participantCount */
  setQuality(holdsFloor, participantCount) { void holdsFloor; void participantCount; }

  /** Test hook and diagnostics: inbound media per remote participant (by mid on the subscriber). */
  stats() {
    const ids = new Set(this.remoteStreams.keys());
    this.taps.prune(ids);
    return inboundStatsByOwner(this.sub?.pc ?? null,
      (stat) => this.streams.get(String(stat.mid))?.participant ?? this.trackOwners.get(stat.trackIdentifier),
      ids, (id) => this.taps.level(id, this.remoteStreams.get(id)));
  }

  /** Test hook and diagnostics: what the publisher connection sends. */
  outboundStats() { return outboundStats(this.pub ? new Map([["pub", this.pub]]) : new Map()); }
}

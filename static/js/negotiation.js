// @ts-check
/**
 * One RTCPeerConnection to one other participant, negotiated with "perfect negotiation".
 *
 * Politeness rule: of two participants, the one whose participant id sorts first (plain string
 * comparison) is POLITE. When two offers cross, the polite side rolls its own back and answers
 * the other; the impolite side ignores the colliding offer.
 *
 * Who starts: to keep the first negotiation free of glare (Chromium can leave both sides with
 * ICE never starting when an offer lands while its own negotiationneeded offer is in flight),
 * the impolite side adds its tracks at once and offers; the polite side sends a `hello` and
 * attaches its tracks to the transceivers of the offer it answers. If no offer comes within a
 * few seconds, the polite side adds its tracks and offers itself (glare is then handled by the
 * rule above). ICE restarts on failure are driven by the impolite side; a polite side whose
 * connection stays broken asks for a fresh connection (`onStuck`).
 */

const POLITE_FALLBACK_MS = 4000;
const DISCONNECTED_GRACE_MS = 4000;
/** how long a connection may stay unconnected before asking for a fresh one (polite, impolite) */
const STUCK_MS = [12000, 20000];

/** @returns {string} */
function newTag() {
  return crypto.getRandomValues(new Uint32Array(2)).join("-");
}

/**
 * @typedef {object} LinkOptions
 * @property {string} id the other participant
 * @property {boolean} polite
 * @property {RTCConfiguration} config
 * @property {MediaStream | null} stream local media
 * @property {(data: object) => void} send deliver a signal to the other participant
 * @property {(track: MediaStreamTrack, stream: MediaStream | undefined) => void} onTrack
 * @property {() => void} onConnected
 * @property {() => void} onStuck
 * @property {(...words: unknown[]) => void} trace
 */

export class PeerLink {
  /** @param {LinkOptions} options */
  constructor(options) {
    this.options = options;
    this.id = options.id;
    this.polite = options.polite;
    this.tag = newTag();
    /** @type {string | null} the tag of the other side's connection, once heard */
    this.remoteTag = null;
    this.pc = new RTCPeerConnection(options.config);
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingAnswer = false;
    this.tracksAttached = false;
    this.closed = false;
    this.stuckAfter = STUCK_MS[this.polite ? 0 : 1];
    /** incoming signals are applied one at a time */
    this.chain = Promise.resolve();
    /** @type {Map<string, ReturnType<typeof setTimeout>>} */
    this.timers = new Map();
    const { pc } = this;
    pc.onnegotiationneeded = () => this.negotiate();
    pc.onicecandidate = ({ candidate }) => { if (candidate) this.send({ candidate: candidate.toJSON() }); };
    pc.ontrack = ({ track, streams }) => options.onTrack(track, streams[0]);
    pc.oniceconnectionstatechange = () => this.onIceState();
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected") { this.clearTimer("stuck"); options.onConnected(); }
    };
    pc.onsignalingstatechange = () => { if (pc.signalingState === "stable") options.onConnected(); };
    this.setTimer("stuck", this.stuckAfter, () => { if (pc.connectionState !== "connected") this.stuck(); });
  }

  /** Begin on our own initiative (see the module comment). */
  start() {
    if (!this.polite) { this.addTracks(); return; }
    this.send({ hello: true });
    this.setTimer("fallback", POLITE_FALLBACK_MS, () => {
      if (!this.pc.remoteDescription) { this.options.trace("no offer came: offering", this.id); this.addTracks(); }
    });
  }

  /** @param {object} data */
  send(data) {
    if (!this.closed) this.options.send({ ...data, pc: this.tag, peer_pc: this.remoteTag });
  }

  addTracks() {
    const stream = this.options.stream;
    if (this.tracksAttached || !stream) return;
    this.tracksAttached = true;
    for (const track of stream.getTracks()) this.pc.addTrack(track, stream);
  }

  /** After applying a remote offer: send our tracks on its transceivers (no new m-lines). */
  async attachToOffer() {
    const stream = this.options.stream;
    if (this.tracksAttached || !stream) return;
    this.tracksAttached = true;
    const jobs = [];
    for (const track of stream.getTracks()) {
      const transceiver = this.pc.getTransceivers().find((t) => t.mid !== null && !t.sender.track
        && t.receiver.track.kind === track.kind && t.currentDirection !== "stopped");
      if (!transceiver) { this.pc.addTrack(track, stream); continue; }
      transceiver.direction = "sendrecv";
      transceiver.sender.setStreams?.(stream);
      jobs.push(transceiver.sender.replaceTrack(track));
    }
    await Promise.all(jobs);
  }

  async negotiate() {
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      if (this.pc.localDescription) this.send({ description: this.pc.localDescription.toJSON() });
    } catch (err) {
      console.warn("hearth: could not make an offer", err);
    } finally {
      this.makingOffer = false;
    }
  }

  /** Apply a signal from the other side (in order). @param {any} data */
  receive(data) {
    this.chain = this.chain.then(() => this.apply(data)).catch((err) => {
      console.warn("hearth: a signal could not be applied", err);
    });
  }

  /** @param {any} data */
  async apply(data) {
    const { pc } = this;
    if (this.closed || pc.signalingState === "closed") return;
    if (data.description) {
      const description = data.description;
      const readyForOffer = !this.makingOffer && (pc.signalingState === "stable" || this.settingAnswer);
      const collision = description.type === "offer" && !readyForOffer;
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) { this.options.trace("ignore colliding offer", this.id); return; }
      this.settingAnswer = description.type === "answer";
      await pc.setRemoteDescription(description); // the polite side rolls back implicitly
      this.settingAnswer = false;
      if (description.type === "offer") {
        this.clearTimer("fallback");
        await this.attachToOffer();
        await pc.setLocalDescription();
        if (pc.localDescription) this.send({ description: pc.localDescription.toJSON() });
      }
    } else if (data.candidate) {
      try {
        await pc.addIceCandidate(data.candidate);
      } catch (err) {
        if (!this.ignoreOffer) throw err;
      }
    }
  }

  onIceState() {
    const state = this.pc.iceConnectionState;
    this.options.trace("ice", this.id, state);
    if (state === "connected" || state === "completed") {
      this.clearTimer("restart");
      this.clearTimer("stuck");
    } else if (state === "failed") {
      if (!this.polite) this.pc.restartIce();
      this.setTimer("stuck", this.stuckAfter, () => this.stuck());
    } else if (state === "disconnected") {
      this.setTimer("restart", DISCONNECTED_GRACE_MS, () => {
        if (this.pc.iceConnectionState !== "disconnected") return;
        if (!this.polite) this.pc.restartIce();
        this.setTimer("stuck", this.stuckAfter, () => this.stuck());
      });
    }
  }

  stuck() {
    const state = this.pc.connectionState;
    if (this.closed || state === "connected") return;
    this.options.trace("stuck", this.id, state);
    this.options.onStuck();
  }

  /** @param {string} name @param {number} ms @param {() => void} fn */
  setTimer(name, ms, fn) {
    this.clearTimer(name);
    this.timers.set(name, setTimeout(() => { this.timers.delete(name); if (!this.closed) fn(); }, ms));
  }

  /** @param {string} name */
  clearTimer(name) {
    const timer = this.timers.get(name);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(name);
  }

  close() {
    this.closed = true;
    for (const name of [...this.timers.keys()]) this.clearTimer(name);
    const { pc } = this;
    pc.onnegotiationneeded = pc.onicecandidate = pc.ontrack = null;
    pc.oniceconnectionstatechange = pc.onconnectionstatechange = pc.onsignalingstatechange = null;
    pc.close();
  }
}

// @ts-check
/**
 * The Hearth wire protocol, client side. No DOM: one websocket at a time, JSON envelopes with
 * ids, acks and errors as promises, `seq` tracking with `sync`, automatic reconnect with
 * `resume`, and a `RoomState` kept up to date. The page listens with `client.on(type, fn)`.
 *
 * Events emitted (besides every room event type, with the change `RoomState.apply` returned):
 * `status` (connecting | lobby | live | reconnecting | closed), `welcome` ({resumed}),
 * `snapshot`, `lobby` ({state}), `signal` ({from, data}), `sfu` (an `SfuFrame`: the media
 * server's side of SFU mode, for sfu.js), `state` (after any change),
 * `closed` ({reason: left | ended | removed | replaced | refused | denied, code, message}),
 * `error` (an error frame nobody awaited: {code, message}).
 */
import { Close, ErrorCode, FINAL_CLOSE_CODES } from "./codes.js";
import { RoomState } from "./state.js";

/** Close codes after which reconnecting cannot help (rooms/codes.py, via codes.js). */
export { FINAL_CLOSE_CODES };
const MAX_BACKOFF_MS = 8000;
const FIRST_BACKOFF_MS = 500;

export class ProtocolError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** Reconnect delay for attempt n (0-based): 0.5 s, 1 s, 2 s, 4 s, 8 s, 8 s … with ±25 % jitter.
 * @param {number} attempt */
export function backoffDelay(attempt) {
  const base = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt);
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

class Emitter {
  constructor() {
    /** @type {Map<string, Set<(detail: any) => void>>} */
    this.listeners = new Map();
  }
  /** @param {string} type @param {(detail: any) => void} fn */
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)?.add(fn);
    return () => this.listeners.get(type)?.delete(fn);
  }
  /** @param {string} type @param {any} [detail] */
  emit(type, detail) {
    for (const fn of this.listeners.get(type) ?? []) {
      try { fn(detail); } catch (err) { console.error(`hearth: a ${type} listener failed`, err); }
    }
  }
}

/**
 * A server `sfu` frame (docs/protocol.md): the media server's answer or offer for this
 * participant's publishing (`pub`) or subscribing (`sub`) connection, a trickled candidate,
 * a `restart` (start both connections over), or who is `speaking` now.
 * @typedef {object} SfuFrame
 * @property {"pub" | "sub"} [pc]
 * @property {RTCSessionDescriptionInit} [description]
 * @property {{mid: string, participant: string, kind: "audio" | "video"}[]} [streams] with a `sub` offer
 * @property {RTCIceCandidateInit | null} [candidate]
 * @property {boolean} [restart]
 * @property {string | null} [speaking]
 */

/**
 * @typedef {object} ClientOptions
 * @property {string} url websocket URL of /ws
 * @property {string} token the invite token of the link
 * @property {string} name display name
 * @property {string} device random id this browser keeps (bans)
 * @property {string | null} [resume] resume token of an earlier welcome (after a reload)
 */

export class HearthClient extends Emitter {
  /** @param {ClientOptions} options */
  constructor(options) {
    super();
    this.options = options;
    this.state = new RoomState();
    /** @type {"idle" | "connecting" | "lobby" | "live" | "reconnecting" | "closed"} */
    this.status = "idle";
    /** latest resume token (each welcome brings a fresh one) */
    this.resumeToken = options.resume ?? null;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.nextId = 1;
    /** @type {Map<number, {resolve: (v: any) => void, reject: (e: Error) => void}>} */
    this.pending = new Map();
    this.attempt = 0;
    this.syncing = false;
    this.welcomed = false;
    /** why the server is about to close us (removed, session_ended, denied, join refusal) */
    this.closing = /** @type {{reason: string, code?: string, message: string} | null} */ (null);
    this.leaving = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
  }

  /** Open the first connection. Resolves on the first `welcome` or `lobby`; rejects with a
   * ProtocolError when the join is refused (a bad name, say), so the join screen can say why.
   * @returns {Promise<"welcome" | "lobby">} */
  start() {
    this.closing = null;
    this.leaving = false;
    return new Promise((resolve, reject) => {
      const offWelcome = this.on("welcome", () => { done(); resolve("welcome"); });
      const offLobby = this.on("lobby", () => { done(); resolve("lobby"); });
      const offClosed = this.on("closed", (d) => { done(); reject(new ProtocolError(d.code ?? d.reason, d.message)); });
      const done = () => { offWelcome(); offLobby(); offClosed(); };
      this.connect();
    });
  }

  connect() {
    this.setStatus(this.welcomed ? "reconnecting" : "connecting");
    const ws = new WebSocket(this.options.url);
    this.ws = ws;
    ws.onopen = () => this.sendJoin();
    ws.onmessage = (event) => this.receive(String(event.data));
    ws.onclose = (event) => { if (this.ws === ws) this.onSocketClosed(event.code); };
  }

  sendJoin() {
    /** @type {Record<string, unknown>} */
    const join = { type: "join", token: this.options.token, name: this.options.name, agree: true,
      device: this.options.device };
    if (this.resumeToken) join.resume = this.resumeToken;
    this.request(join).catch((err) => this.onJoinRefused(err));
  }

  /** @param {Error & {code?: string}} err */
  onJoinRefused(err) {
    const code = err.code ?? "disconnected";
    if (code === "disconnected") return; // the close handler deals with it
    if (code === ErrorCode.UNAVAILABLE) { this.dropAndRetry(); return; }
    if (code === ErrorCode.BAD_MESSAGE || code === ErrorCode.AGREEMENT_REQUIRED) {
      // Fixable by the person: give up this socket and let the join screen show the message.
      this.closing = { reason: "refused", code, message: err.message };
      this.ws?.close(Close.NORMAL);
      return;
    }
    this.closing = { reason: code === ErrorCode.SESSION_ENDED ? "ended" : "refused", code, message: err.message };
  }

  /** Close the current socket and try again later (keeps the seat through `resume`). */
  dropAndRetry() {
    const ws = this.ws;
    this.ws = null;
    ws?.close(Close.RETRY);
    this.scheduleReconnect();
  }

  /** @param {string} text */
  receive(text) {
    /** @type {import("./state.js").Frame} */
    let frame;
    try { frame = JSON.parse(text); } catch { return; }
    switch (frame.type) {
      case "ack": this.settle(frame.ref, null); return;
      case "error": this.onError(frame); return;
      case "welcome": this.onWelcome(frame); return;
      case "snapshot": this.onSnapshot(frame); return;
      case "chat_history": this.onChatHistory(frame); return;
      case "lobby": this.onLobby(frame); return;
      case "signal": this.emit("signal", { from: frame.from, data: frame.data }); return;
      case "sfu": this.emit("sfu", /** @type {SfuFrame} */ (frame)); return;
      case "removed": this.closing = { reason: "removed", message: frame.reason ?? "" }; return;
      case "session_ended": this.closing = { reason: "ended", message: frame.reason ?? "" }; return;
      case "pong": return;
      default:
        if (typeof frame.seq === "number") this.onNumbered(frame);
        else this.applyEvent(frame);
    }
  }

  /** @param {import("./state.js").Frame} frame */
  onError(frame) {
    if (frame.ref !== undefined && this.pending.has(frame.ref)) {
      this.settle(frame.ref, new ProtocolError(frame.code, frame.message));
    } else {
      this.emit("error", { code: frame.code, message: frame.message });
    }
  }

  /** @param {import("./state.js").Frame} frame */
  onWelcome(frame) {
    const resumed = this.welcomed && this.state.you?.id === frame.you.id;
    this.state.load(frame);
    this.resumeToken = frame.resume ?? null;
    this.welcomed = true;
    this.attempt = 0;
    this.syncing = false;
    this.setStatus("live");
    this.emit("welcome", { resumed });
    this.emit("state", { type: "welcome" });
  }

  /** @param {import("./state.js").Frame} frame */
  onSnapshot(frame) {
    this.state.load(frame);
    this.syncing = false;
    this.emit("snapshot", {});
    this.emit("state", { type: "snapshot" });
  }

  /** A page of older chat, asked for with `loadEarlierChat()`; arrives before its ack.
   * @param {import("./state.js").Frame} frame */
  onChatHistory(frame) {
    const added = this.state.prependChat(frame);
    this.emit("chat_history", { added });
    this.emit("state", { type: "chat_history", added });
  }

  /** Ask for the page of chat before the oldest message held (welcome and snapshot carry only
   * the most recent part). Resolves once it is in `state.chat`. @returns {Promise<void>} */
  loadEarlierChat() {
    const before = this.state.oldestChatId;
    return this.request(before === null ? { type: "chat_history" } : { type: "chat_history", before });
  }

  /** @param {import("./state.js").Frame} frame */
  onLobby(frame) {
    if (frame.state === "denied") {
      this.closing = { reason: "denied", message: "the facilitator did not let you in" };
      return;
    }
    if (frame.state === "timed_out") {
      this.closing = { reason: "refused", code: "lobby_timed_out", message: "nobody let you in for a long time" };
      return;
    }
    this.attempt = 0;
    this.setStatus("lobby");
    this.emit("lobby", { state: frame.state });
  }

  /** A numbered room event: apply it in order, or ask for a snapshot after a gap.
   * @param {import("./state.js").Frame} frame */
  onNumbered(frame) {
    if (this.syncing || frame.seq <= this.state.seq) return;
    if (frame.seq !== this.state.seq + 1) {
      this.syncing = true;
      this.askSnapshot();
      return;
    }
    this.state.seq = frame.seq;
    this.applyEvent(frame);
  }

  /** Ask for a `snapshot` after a gap; numbered frames wait for it (they are dropped until it
   * comes). A refused `sync` (the room service is away for a moment) is asked again a little
   * later, so the view never stays stuck behind a gap. */
  askSnapshot() {
    this.request({ type: "sync" }).catch((/** @type {ProtocolError} */ error) => {
      if (!this.syncing || error.code === "disconnected" || error.code === ErrorCode.SESSION_ENDED) return;
      setTimeout(() => { if (this.syncing) this.askSnapshot(); }, 1000);
    });
  }

  /** @param {import("./state.js").Frame} frame */
  applyEvent(frame) {
    const change = this.state.apply(frame);
    if (change === null) return;
    this.emit(frame.type, change);
    this.emit("state", { type: frame.type, ...change });
  }

  /** @param {number} code */
  onSocketClosed(code) {
    this.ws = null;
    for (const [ref] of this.pending) this.settle(ref, new ProtocolError("disconnected", "connection closed"));
    const closing = this.closing;
    if (this.leaving) return this.finish({ reason: "left", code: String(code), message: "" });
    if (code === Close.REPLACED) return this.finish({ reason: "replaced", code: "replaced", message: "" });
    if (code === Close.SESSION_ENDED) return this.finish({ reason: "ended", code: ErrorCode.SESSION_ENDED, message: closing?.message ?? "" });
    if (closing) return this.finish({ ...closing, code: closing.code ?? closing.reason });
    if (FINAL_CLOSE_CODES.has(code)) {
      return this.finish({ reason: "refused", code: code === Close.NOT_FOUND ? ErrorCode.NOT_FOUND : ErrorCode.UNAUTHORIZED, message: "" });
    }
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    if (this.status === "closed" || this.retryTimer) return;
    this.setStatus(this.welcomed ? "reconnecting" : "connecting");
    const delay = backoffDelay(this.attempt++);
    this.retryTimer = setTimeout(() => { this.retryTimer = null; this.connect(); }, delay);
  }

  /** @param {{reason: string, code?: string, message: string}} detail */
  finish(detail) {
    this.setStatus("closed");
    this.emit("closed", detail);
  }

  /** @param {"idle" | "connecting" | "lobby" | "live" | "reconnecting" | "closed"} status */
  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.emit("status", { status });
  }

  /** Send a message with an id; resolves on its ack, rejects with a ProtocolError on its error.
   * @param {Record<string, unknown>} message @returns {Promise<void>} */
  request(message) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new ProtocolError("disconnected", "not connected right now"));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ ...message, id }));
    });
  }

  /** Fire and forget (errors still arrive as `error` events). @param {Record<string, unknown>} message */
  send(message) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** @param {number} ref @param {Error | null} error */
  settle(ref, error) {
    const waiter = this.pending.get(ref);
    if (!waiter) return;
    this.pending.delete(ref);
    if (error) waiter.reject(error); else waiter.resolve(undefined);
  }

  // Commands: one method per client message (docs/protocol.md §2), named after its type in
  // camelCase, so that only this module knows the wire format. Each resolves on the message's
  // ack and rejects with a ProtocolError on its error (`code`, `message`). Besides these:
  // `start()` sends `join`, `leave()` `leave`, `askSnapshot()` `sync`, `loadEarlierChat()`
  // `chat_history`.

  /** Post to the group, privately to the facilitators, or (with "answer_help") privately to
   * one participant, `to` being their id.
   * @param {string} text @param {{toFacilitators?: boolean, to?: string | null}} [options]
   * @returns {Promise<void>} */
  chat(text, { toFacilitators = false, to = null } = {}) {
    if (to) return this.request({ type: "chat", text, to });
    return this.request(toFacilitators ? { type: "chat", text, to: "facilitators" } : { type: "chat", text });
  }

  /** "Need help now?": alert the facilitators (and write to them privately, in the chat).
   * @param {string} text @returns {Promise<void>} */
  askHelp(text) { return this.request({ type: "ask_help", text }); }

  /** "I'm on it": close the help alert of this participant. @param {string} target the asker's id
   * @returns {Promise<void>} */
  ackHelp(target) { return this.request({ type: "ack_help", target }); }

  /** @param {string} emoji one of `welcome.reactions` @returns {Promise<void>} */
  react(emoji) { return this.request({ type: "react", emoji }); }

  /** Say what you send now. @param {{audio: boolean, video: boolean}} media @returns {Promise<void>} */
  media({ audio, video }) { return this.request({ type: "media", audio, video }); }

  /** @param {boolean} raised @returns {Promise<void>} */
  hand(raised) { return this.request({ type: "hand", raised }); }

  /** Give up the floor (or your turn in the circle). @returns {Promise<void>} */
  pass() { return this.request({ type: "pass" }); }

  /** @param {boolean} away stepped away for a moment @returns {Promise<void>} */
  away(away) { return this.request({ type: "away", away }); }

  /** Relay WebRTC signalling to one participant (fire and forget: errors come as `error` events).
   * @param {string} to @param {object} data */
  signal(to, data) { this.send({ type: "signal", to, data }); }

  /** SFU mode: this participant's offer or answer (`description`) or a trickled ICE candidate
   * (`candidate`, null at the end) for its publishing or subscribing connection (fire and forget).
   * @param {"pub" | "sub"} pc
   * @param {{description: RTCSessionDescriptionInit} | {candidate: RTCIceCandidateInit | null}} data */
  sfu(pc, data) {
    if ("description" in data) this.send({ type: "sfu", pc, description: data.description });
    else this.send({ type: "sfu", pc, candidate: data.candidate });
  }

  /** SFU mode: who to see large (the high simulcast layer), or nobody (null).
   * @param {string | null} pin @returns {Promise<void>} */
  sfuView(pin) { return this.request({ type: "sfu_view", pin }); }

  /** @returns {Promise<void>} */
  ping() { return this.request({ type: "ping" }); }

  /** @param {string} target @param {{video?: boolean}} [options] camera instead of microphone
   * @returns {Promise<void>} */
  mute(target, { video = false } = {}) {
    return this.request(video ? { type: "mute", target, video } : { type: "mute", target });
  }

  /** @returns {Promise<void>} */
  muteAll() { return this.request({ type: "mute_all" }); }

  /** @param {string} target @returns {Promise<void>} */
  allowSpeak(target) { return this.request({ type: "allow_speak", target }); }

  /** @param {string} target @returns {Promise<void>} */
  giveFloor(target) { return this.request({ type: "give_floor", target }); }

  /** @returns {Promise<void>} */
  nextFloor() { return this.request({ type: "next_floor" }); }

  /** @returns {Promise<void>} */
  endFloor() { return this.request({ type: "end_floor" }); }

  /** Floor mode; `turnSeconds`: absent keeps the timer, null removes it; `order`: the circle.
   * @param {"open" | "queue" | "circle"} mode
   * @param {{turnSeconds?: number | null, order?: string[]}} [options] @returns {Promise<void>} */
  setFloor(mode, { turnSeconds, order } = {}) {
    /** @type {Record<string, unknown>} */
    const message = { type: "set_floor", mode };
    if (turnSeconds !== undefined) message.turn_seconds = turnSeconds;
    if (order !== undefined) message.order = order;
    return this.request(message);
  }

  /** @param {string} target @returns {Promise<void>} */
  lowerHand(target) { return this.request({ type: "lower_hand", target }); }

  /** @returns {Promise<void>} */
  lowerAllHands() { return this.request({ type: "lower_all_hands" }); }

  /** @param {string} target @returns {Promise<void>} */
  admit(target) { return this.request({ type: "admit", target }); }

  /** @returns {Promise<void>} */
  admitAll() { return this.request({ type: "admit_all" }); }

  /** @param {string} target @returns {Promise<void>} */
  deny(target) { return this.request({ type: "deny", target }); }

  /** @returns {Promise<void>} */
  denyAll() { return this.request({ type: "deny_all" }); }

  /** @param {boolean} locked @returns {Promise<void>} */
  lock(locked) { return this.request({ type: "lock", locked }); }

  /** @param {string} target @param {{ban?: boolean}} [options] also keep them out this session
   * @returns {Promise<void>} */
  remove(target, { ban = false } = {}) {
    return this.request(ban ? { type: "remove", target, ban } : { type: "remove", target });
  }

  /** @param {string} messageId @returns {Promise<void>} */
  deleteChat(messageId) { return this.request({ type: "delete_chat", message_id: messageId }); }

  /** @returns {Promise<void>} */
  endSession() { return this.request({ type: "end_session" }); }

  /** The run-sheet: begin phase `index` (from 0; the floor follows it), or end it (null).
   * @param {number | null} index @returns {Promise<void>} */
  setPhase(index) { return this.request({ type: "set_phase", index }); }

  /** One click: the first phase if none is under way, else the next; after the last, none.
   * @returns {Promise<void>} */
  nextPhase() { return this.request({ type: "next_phase" }); }

  /** Leave for good (the seat is given up). */
  async leave() {
    this.leaving = true;
    if (this.retryTimer) { clearTimeout(this.retryTimer); this.retryTimer = null; }
    try { await this.request({ type: "leave" }); } catch { /* closing anyway */ }
    if (this.ws) this.ws.close(Close.NORMAL); else this.finish({ reason: "left", message: "" });
  }
}

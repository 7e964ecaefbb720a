// @ts-check
/**
 * The group's journey over HTTP (`/api/rooms/{id}/journey/...`, docs/journey.md and
 * docs/protocol.md): plans, the coping-strategies board, check-ins, the group's summaries and
 * "my data". No DOM: the room page's "Our group" panel and the between-sessions page both use it.
 * Every call sends the link's token as a bearer token (the token the page took from its link's
 * fragment, ui/link.js); a refusal rejects with a `JourneyError` carrying the server's `code`
 * (rooms/codes.py: `personal_link_required`, `too_few_answers`, `limit_reached`...) and message.
 */
import { ErrorCode } from "./codes.js";

/** @typedef {"done" | "partly" | "changed"} ReviewStatus */
/** @typedef {{status: ReviewStatus, note: string, shared: boolean, session: number}} Review */
/**
 * @typedef {object} Plan
 * @property {string} id
 * @property {string} owner_name
 * @property {boolean} mine
 * @property {string} what
 * @property {string} how_much
 * @property {string} when
 * @property {string} how_often
 * @property {number} confidence
 * @property {boolean} shared
 * @property {number} session the session it was made in
 * @property {number} created
 * @property {Review | null} review
 * @property {number} cheers
 * @property {boolean} cheered
 * @property {boolean} suggest_smaller
 * @property {boolean} [for_review] one of "last week's plans": mine, not reviewed, from an earlier session
 */
/** @typedef {{what: string, how_much: string, when: string, how_often: string, confidence: number,
 *   shared: boolean}} PlanFields */
/**
 * @typedef {object} Post
 * @property {string} id
 * @property {string} text
 * @property {string[]} tags
 * @property {string} author a name, "Anonymous" or "Facilitator"
 * @property {boolean} mine
 * @property {boolean} anonymous
 * @property {boolean} pinned
 * @property {boolean} [hidden] moderators only
 * @property {number} helped
 * @property {boolean} helped_by_me
 * @property {boolean} saved
 * @property {number} created
 * @property {string} [author_name] moderators only, for anonymous posts
 */
/** @typedef {{posts: Post[], tags: string[]}} Board */
/** @typedef {"in" | "out"} CheckKind */
/** @typedef {{pain: number, enjoyment: number, activity: number}} PegAnswers */
/** @typedef {{session: number, kind: CheckKind, pain: number, enjoyment: number, activity: number,
 *   score: number}} Card */
/** @typedef {{session: number, kind: CheckKind, n: number, score: number}} Summary */
/** A member's card as facilitators see it where the room says so (`GET /journey/checkins`).
 * @typedef {Card & {name: string}} NamedCard */
/**
 * `GET /journey`: who you are to the journey, the session, the room, the next sessions.
 * @typedef {object} Overview
 * @property {{role: string, member: {id: string, name: string} | null, capabilities: string[]}} you
 * @property {{number: number, live: boolean}} session
 * @property {{id: string, title: string, topic: string, settings: {facilitators_see_checkins?: boolean,
 *   [key: string]: unknown}, [key: string]: unknown}} room
 * @property {number[]} next_sessions unix seconds
 */
/** `GET /journey/me`: everything the group keeps about you.
 * @typedef {{member: unknown, plans: unknown[], checkins: unknown[], posts: unknown[],
 *   helped: unknown[], saved: unknown[], cheers: unknown[]}} MyData */

export class JourneyError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class JourneyApi {
  /**
   * @param {string} roomId
   * @param {() => string} token the link's current token (a replaced facilitator link changes it)
   * @param {typeof fetch} [fetcher]
   */
  constructor(roomId, token, fetcher) {
    this.base = `/api/rooms/${encodeURIComponent(roomId)}/journey`;
    this.token = token;
    this.fetcher = fetcher ?? ((input, init) => fetch(input, init));
  }

  /**
   * One call: JSON in and out; a refusal (or no answer) rejects with a `JourneyError`.
   * @param {string} method @param {string} path @param {unknown} [body]
   * @returns {Promise<any>} the JSON answer (null for an empty one)
   */
  async call(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = { authorization: `Bearer ${this.token()}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    /** @type {Response} */
    let response;
    try {
      response = await this.fetcher(this.base + path, {
        method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new JourneyError(0, ErrorCode.UNAVAILABLE, "The server cannot be reached right now.");
    }
    const text = await response.text();
    /** @type {any} */
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    if (!response.ok) {
      const error = json?.error ?? {};
      throw new JourneyError(response.status, String(error.code ?? ErrorCode.UNAVAILABLE),
        String(error.message ?? `The server answered ${response.status}.`));
    }
    return json;
  }

  /** @returns {Promise<Overview>} */
  overview() { return this.call("GET", ""); }

  // My data.
  /** @returns {Promise<MyData>} */
  myData() { return this.call("GET", "/me"); }
  /** The export as a file (`?download=1`), for "Download my data". @returns {Promise<Blob>} */
  async myDataFile() {
    const response = await this.fetcher(`${this.base}/me?download=1`, {
      headers: { authorization: `Bearer ${this.token()}` }, cache: "no-store",
    });
    if (!response.ok) throw new JourneyError(response.status, ErrorCode.UNAVAILABLE, "The export could not be made.");
    return response.blob();
  }
  /** @returns {Promise<void>} */
  deleteMyData() { return this.call("DELETE", "/me/data"); }
  /** Leave the group: data and the roster entry. @returns {Promise<void>} */
  leaveGroup() { return this.call("DELETE", "/me"); }

  // Plans.
  /** @returns {Promise<{plans: Plan[]}>} */
  plans() { return this.call("GET", "/plans"); }
  /** @param {PlanFields} fields @returns {Promise<Plan>} */
  addPlan(fields) { return this.call("POST", "/plans", fields); }
  /** @param {string} id @param {Partial<PlanFields>} fields @returns {Promise<Plan>} */
  updatePlan(id, fields) { return this.call("PATCH", `/plans/${encodeURIComponent(id)}`, fields); }
  /** @param {string} id @returns {Promise<void>} */
  deletePlan(id) { return this.call("DELETE", `/plans/${encodeURIComponent(id)}`); }
  /** @param {string} id @param {{status: ReviewStatus, note: string, shared: boolean}} review
   * @returns {Promise<Plan>} */
  reviewPlan(id, review) { return this.call("POST", `/plans/${encodeURIComponent(id)}/review`, review); }
  /** @param {string} id @param {boolean} on @returns {Promise<unknown>} */
  cheer(id, on) { return this.call(on ? "PUT" : "DELETE", `/plans/${encodeURIComponent(id)}/cheer`); }

  // The coping-strategies board.
  /** @returns {Promise<Board>} */
  board() { return this.call("GET", "/board"); }
  /** @param {{text: string, tags: string[], anonymous: boolean}} fields @returns {Promise<Post>} */
  addPost(fields) { return this.call("POST", "/board", fields); }
  /** @param {string} id @param {{pinned?: boolean, hidden?: boolean, tags?: string[], text?: string}} fields
   * @returns {Promise<Post>} */
  updatePost(id, fields) { return this.call("PATCH", `/board/${encodeURIComponent(id)}`, fields); }
  /** @param {string} id @returns {Promise<void>} */
  deletePost(id) { return this.call("DELETE", `/board/${encodeURIComponent(id)}`); }
  /** @param {string} id @param {boolean} on @returns {Promise<unknown>} */
  helped(id, on) { return this.call(on ? "PUT" : "DELETE", `/board/${encodeURIComponent(id)}/helped`); }
  /** @param {string} id @param {boolean} on @returns {Promise<unknown>} */
  save(id, on) { return this.call(on ? "PUT" : "DELETE", `/board/${encodeURIComponent(id)}/saved`); }
  /** @returns {Promise<{posts: Post[]}>} */
  toolkit() { return this.call("GET", "/toolkit"); }

  // Check-ins.
  /** @param {CheckKind} kind @param {PegAnswers} answers @returns {Promise<unknown>} */
  checkIn(kind, answers) { return this.call("PUT", `/checkins/${kind}`, answers); }
  /** @param {CheckKind} kind @returns {Promise<void>} */
  withdrawCheckIn(kind) { return this.call("DELETE", `/checkins/${kind}`); }
  /** @returns {Promise<{cards: Card[]}>} */
  myCards() { return this.call("GET", "/checkins/mine"); }
  /** @returns {Promise<{summaries: Summary[]}>} */
  summaries() { return this.call("GET", "/checkins/summary"); }
  /** This session's cards with names (`see_checkins`, in a room whose `facilitators_see_checkins`
   * is on; else `forbidden`). @returns {Promise<{session: number, cards: NamedCard[]}>} */
  sessionCards() { return this.call("GET", "/checkins"); }
  /** Close this session's round (`run_session`); `too_few_answers` below five.
   * @param {CheckKind} kind @returns {Promise<Summary>} */
  closeRound(kind) { return this.call("POST", "/checkins/summary", { kind }); }
}

/** Whether an error is the API's "this needs a personal link" (a shared member link).
 * @param {unknown} error */
export function needsPersonalLink(error) {
  return error instanceof JourneyError && error.code === ErrorCode.PERSONAL_LINK_REQUIRED;
}

// @ts-check
/**
 * The link's token and what the page keeps between reloads. The token is read from the
 * fragment (`#k=`) or the query (`?k=`), then removed from the address bar before joining; it
 * stays in memory and in sessionStorage (this tab only) so a reload can resume the seat.
 */

/** @param {string} roomId */
export const memberLinkKey = (roomId) => `hearth:${roomId}:member-link`;
/** @param {string} roomId @param {string} what */
const key = (roomId, what) => `hearth:${roomId}:${what}`;

/** @param {string} roomId @returns {string | null} */
export function takeLinkToken(roomId) {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("k");
  const query = new URLSearchParams(location.search);
  const token = fromHash || query.get("k");
  if (fromHash !== null || query.has("k")) {
    query.delete("k");
    const rest = query.toString();
    history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : ""));
  }
  if (token) {
    const previous = sessionStorage.getItem(key(roomId, "token"));
    if (previous !== token) sessionStorage.removeItem(key(roomId, "resume"));
    sessionStorage.setItem(key(roomId, "token"), token);
    return token;
  }
  return sessionStorage.getItem(key(roomId, "token"));
}

/** The claims of a token, for display only (the server alone decides what they allow): the
 * payload read as base64url UTF-8 JSON, never verified; anything malformed is null.
 * @param {string} token @returns {{role?: string, exp?: number, sub?: string, name?: string} | null} */
export function peekClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    return claims !== null && typeof claims === "object" && !Array.isArray(claims) ? claims : null;
  } catch {
    return null;
  }
}

/** A random id this browser keeps (sent as `join.device`, so a ban holds on this device). */
export function deviceId() {
  const name = "hearth:device";
  let id = null;
  try { id = localStorage.getItem(name); } catch { /* storage blocked */ }
  if (!id) {
    id = crypto.randomUUID();
    try { localStorage.setItem(name, id); } catch { /* storage blocked */ }
  }
  return id;
}

/** Per-room values kept for this tab: the name, the latest resume token. */
export class TabMemory {
  /** @param {string} roomId */
  constructor(roomId) {
    this.roomId = roomId;
  }
  /** @param {string} what */
  get(what) {
    return sessionStorage.getItem(key(this.roomId, what));
  }
  /** @param {string} what @param {string | null} value */
  set(what, value) {
    if (value === null) sessionStorage.removeItem(key(this.roomId, what));
    else sessionStorage.setItem(key(this.roomId, what), value);
  }
}

// @ts-check
/**
 * Room page entry. Takes the token out of the address bar, shows the join screen, then runs
 * the session: lobby, room, and the end screens. Test hook: `window.hearth = {client, mesh, check}`
 * (`mesh` is the session's media path, a mesh or the SFU: the same interface, playback.js).
 */
import { ErrorCode } from "./codes.js";
import { HearthClient } from "./protocol.js";
import { wireCalendarButton } from "./ui/calendar-button.js";
import { byId } from "./ui/dom.js";
import { JoinScreen, nameFromLink, offerJourneyLink } from "./ui/join.js";
import { watchLengths } from "./ui/length-notes.js";
import { deviceId, peekClaims, TabMemory, takeLinkToken } from "./ui/link.js";
import { showLobby } from "./ui/lobby.js";
import { RoomView } from "./ui/room.js";
import { showEnded, showError, showScreen } from "./ui/screens.js";

/** @typedef {{client: HearthClient | null, mesh: import("./playback.js").MediaPath | null,
 *   check: import("./check.js").EchoCheck | null}} DebugHandle */

const roomId = byId("app").dataset.roomId ?? "";
const token = takeLinkToken(roomId);
/** @type {DebugHandle} */
const handle = { client: null, mesh: null, check: null };
/** @type {any} */ (window).hearth = handle;
watchLengths(document);

if (!token) {
  showError("no_token");
} else if (typeof RTCPeerConnection === "undefined" || !("WebSocket" in window)) {
  showError("media");
} else {
  setUp(token);
}

/** @param {string} linkToken */
function setUp(linkToken) {
  const memory = new TabMemory(roomId);
  const claims = peekClaims(linkToken);
  /** @type {HearthClient | null} */
  let client = null;
  const join = new JoinScreen({
    initialName: memory.get("name") ?? nameFromLink(claims),
    role: claims?.role,
    token: linkToken,
    onCheck: (check) => { handle.check = check; },
    onJoin: (choice) => {
      if (!client) { client = begin(choice); return; }
      if (client.status !== "closed") return;
      // After a refusal the person could fix: the same client tries again with the new name.
      join.setBusy(true);
      memory.set("name", choice.name);
      client.options.name = choice.name;
      client.start().catch(() => {});
    },
  });
  showScreen("screen-join");
  wireCalendarButton(roomId, linkToken);
  offerJourneyLink(roomId, linkToken, claims);
  checkLink(linkToken).then((refusal) => {
    if (!refusal || client) return; // a working link, or already joining (the join reports)
    join.stop();
    join.ready.then(() => { for (const track of join.media.stream.getTracks()) track.stop(); });
    showError(refusal.code, refusal.message);
  });

  /** @param {import("./ui/join.js").JoinChoice} choice */
  function begin(choice) {
    join.setBusy(true);
    memory.set("name", choice.name);
    const session = new HearthClient({
      url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`,
      token: linkToken, name: choice.name, device: deviceId(), resume: memory.get("resume"),
    });
    handle.client = session;
    const room = new RoomView({ client: session, roomId, token: linkToken,
      wantMic: choice.wantMic, wantCamera: choice.wantCamera, onLeave: () => session.leave(),
      onNewToken: (token) => memory.set("token", token), onMedia: (media) => { handle.mesh = media; } });
    session.on("welcome", () => { memory.set("resume", session.resumeToken); join.stop(); });
    session.on("lobby", ({ state }) => showLobby(state, room.mesh.localStream));
    session.on("status", ({ status }) => {
      // The first connection keeps failing: say so on the join screen (it keeps trying).
      if (status === "connecting" && session.attempt > 1) byId("join-error").textContent =
        "The server cannot be reached right now. Still trying…";
      else if (status !== "connecting" && status !== "closed") byId("join-error").textContent = "";
    });
    session.on("closed", (detail) => finish(detail, session, room));
    join.ready.then(() => {
      room.mesh.setLocalStream(join.media.stream);
      room.tiles.setLocalStream(join.media.stream);
      session.start().catch(() => { /* the closed handler shows why */ });
    });
    byId("lobby-leave").onclick = () => session.leave();
    return session;
  }

  /**
   * @param {{reason: string, code?: string, message: string}} detail
   * @param {HearthClient} session @param {RoomView} room
   */
  function finish(detail, session, room) {
    const fixable = detail.code === ErrorCode.BAD_MESSAGE || detail.code === ErrorCode.AGREEMENT_REQUIRED;
    if (fixable && !session.welcomed) {
      // A refusal the person can fix (a name the server does not accept): back to the form.
      room.stop();
      showScreen("screen-join");
      join.showError(`The server did not accept this: ${detail.message}.`);
      return;
    }
    room.stop();
    join.stop();
    for (const track of join.media.stream.getTracks()) track.stop();
    if (detail.reason !== "replaced") memory.set("resume", null);
    if (detail.reason === "left") showEnded("left");
    else if (detail.reason === "ended") showEnded("ended");
    else if (detail.reason === "removed") showScreen("screen-removed");
    else if (detail.reason === "replaced") showScreen("screen-replaced");
    else if (detail.reason === "denied") showError("denied");
    else showError(detail.code ?? ErrorCode.UNAUTHORIZED, detail.message);
  }
}

/**
 * Whether the link could join its room now (GET /api/links/check, which joins nothing): a bad,
 * expired or replaced link is reported when the page opens, not after the form is filled in.
 * Anything other than a clear refusal (offline, a server error) counts as fine: joining then
 * says what is wrong.
 * @param {string} linkToken
 * @returns {Promise<{code: string, message: string} | null>}
 */
async function checkLink(linkToken) {
  try {
    const response = await fetch("/api/links/check", { headers: { authorization: `Bearer ${linkToken}` }, cache: "no-store" });
    if (response.ok) return null;
    if (response.status !== 401 && response.status !== 404) return null;
    const error = (await response.json())?.error;
    return { code: String(error?.code ?? ErrorCode.UNAUTHORIZED), message: String(error?.message ?? "") };
  } catch {
    return null;
  }
}

byId("replaced-rejoin").addEventListener("click", () => location.reload());
byId("rejoin-button").addEventListener("click", () => location.reload());

// A new link pasted into this tab (only the fragment changes): start over with its token.
addEventListener("hashchange", () => {
  if (new URLSearchParams(location.hash.slice(1)).has("k")) location.reload();
});

// @ts-check
/** The lobby wait screen: "waiting for the facilitator" or "waiting to be let in". */
import { byId } from "./dom.js";
import { showScreen } from "./screens.js";

const WORDS = /** @type {Record<string, string>} */ ({
  waiting_for_facilitator: "You are waiting for the facilitator. The session begins when they arrive.",
  waiting_for_admission: "You are waiting to be let in. The facilitator can see that you are here.",
});

/** @param {string} state @param {MediaStream | null} stream */
export function showLobby(state, stream) {
  byId("lobby-status").textContent = WORDS[state] ?? WORDS.waiting_for_facilitator;
  const video = /** @type {HTMLVideoElement} */ (byId("lobby-preview"));
  if (stream && video.srcObject !== stream) {
    video.srcObject = stream;
    video.play().catch(() => {});
  }
  video.hidden = !stream || stream.getVideoTracks().every((t) => !t.enabled);
  showScreen("screen-lobby");
}


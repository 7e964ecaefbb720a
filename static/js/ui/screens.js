// @ts-check
/** One visible screen at a time: every screen is a <section class="screen" id="screen-…">. */
import { byId } from "./dom.js";

/** @typedef {"screen-join" | "screen-lobby" | "screen-room" | "screen-ended" | "screen-removed"
 *   | "screen-error" | "screen-replaced"} ScreenId */

/** @param {ScreenId} id */
export function showScreen(id) {
  let shown = null;
  for (const section of Array.from(document.querySelectorAll("section.screen"))) {
    const visible = section.id === id;
    if (visible && /** @type {HTMLElement} */ (section).hidden) shown = section;
    /** @type {HTMLElement} */ (section).hidden = !visible;
  }
  document.body.dataset.screen = id;
  // Move focus to the new screen's heading so screen readers start there.
  const heading = shown?.querySelector("h1");
  if (heading instanceof HTMLElement && id !== "screen-join") {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

/** Friendly words for a join refusal or an error code. */
const ERRORS = /** @type {Record<string, [string, string]>} */ ({
  unauthorized: ["This link does not work", "This invite link is not valid or has expired. Ask the facilitator for a new link."],
  not_found: ["This room does not exist", "Check the link, or ask the facilitator for a new one."],
  room_locked: ["The room is locked", "The facilitator has closed the room to new arrivals for now. You can try again in a little while, or contact the facilitator."],
  room_full: ["The room is full", "There are no free places in this session right now. Please contact the facilitator."],
  lobby_full: ["The waiting room is full", "Too many people are waiting to come in right now. Please try again in a few minutes, or contact the facilitator."],
  lobby_timed_out: ["You waited a long time", "Nobody let you in for a long time, so the waiting room let you go. The session may not be running now: you can try again with the same link, or contact the facilitator."],
  banned: ["You cannot join this session", "A facilitator has closed this session to you. You can contact the group's organizer."],
  denied: ["You were not let in this time", "The facilitator did not admit you to this session. You can contact them if you think this is a mistake."],
  no_token: ["This link is incomplete", "The invite link is missing its key. Open the whole link you were given, or ask the facilitator for a new one."],
  media: ["Hearth cannot run in this browser", "Your browser does not support live video here. Try a current version of Firefox, Chrome, Edge or Safari."],
});

/** Show the error screen. @param {string} code @param {string} [detail] server words, if any */
export function showError(code, detail = "") {
  const [title, text] = ERRORS[code] ?? ["Something went wrong", "Please try the link again in a moment."];
  byId("error-title").textContent = title;
  const replaced = /replaced by a newer/i.test(detail);
  byId("error-message").textContent = replaced
    ? "This invite link was replaced by a newer one. Ask the facilitator for the current link."
    : text;
  showScreen("screen-error");
}

/** Show the "ended" screen, for the end of a session or for leaving.
 * @param {"ended" | "left"} why */
export function showEnded(why) {
  byId("ended-title").textContent = why === "left" ? "You left the session" : "The session has ended";
  byId("ended-message").textContent = why === "left"
    ? "Thank you for being here. You can come back with the same link while the session is on."
    : "Thank you for being here today. The chat has been cleared. Take good care of yourself.";
  showScreen("screen-ended");
}

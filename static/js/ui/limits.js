// @ts-check
/**
 * The server's limits (`welcome.limits`, built from its settings in rooms/limits.py) on the
 * page's inputs, so the page never states a limit of its own: the chat box and the private
 * message to the facilitators take `max_chat_chars`, the turn timer its bounds.
 */
import { byId } from "./dom.js";

/** @param {import("../state.js").Limits} limits */
export function applyLimits(limits) {
  for (const id of ["chat-input", "help-message"]) {
    const box = /** @type {HTMLTextAreaElement} */ (byId(id));
    if (limits.max_chat_chars) box.maxLength = limits.max_chat_chars;
  }
  const turn = /** @type {HTMLInputElement} */ (byId("turn-seconds"));
  if (limits.turn_seconds_min) turn.min = String(limits.turn_seconds_min);
  if (limits.turn_seconds_max) turn.max = String(limits.turn_seconds_max);
}

// @ts-check
/** The polite live region (#announcer) and the visible toast. */
import { byId } from "./dom.js";

/** Say something to screen readers (and nothing else). Each message is its own node, so the
 * same words twice are announced twice. @param {string} text */
export function announce(text) {
  const region = byId("announcer");
  const line = document.createElement("p");
  line.textContent = text;
  region.append(line);
  setTimeout(() => line.remove(), 8000);
}

/** @type {ReturnType<typeof setTimeout> | null} */
let toastTimer = null;

/** Show a short message on screen for a few seconds, and announce it.
 * @param {string} text @param {"info" | "warning"} [tone] */
export function toast(text, tone = "info") {
  const box = document.getElementById("toast");
  announce(text);
  if (!box) return;
  box.textContent = text;
  box.dataset.tone = tone;
  box.hidden = false;
  if (toastTimer) clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 5000);
}

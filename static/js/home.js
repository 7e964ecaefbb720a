// @ts-check
/**
 * Home page: create a group room through the JSON API, then go straight to the facilitator
 * link. The member link travels to the room page in sessionStorage (never in the address bar),
 * where the "share this invite link" panel shows it.
 */
import { byId } from "./ui/dom.js";
import { memberLinkKey } from "./ui/link.js";

const form = /** @type {HTMLFormElement} */ (byId("create-room"));
const errorBox = byId("create-error");
const submit = /** @type {HTMLButtonElement} */ (byId("create-button"));

/** @param {FormData} data */
function roomBody(data) {
  const text = (/** @type {string} */ name) => String(data.get(name) ?? "").trim();
  /** @type {Record<string, unknown>} */
  const body = {
    title: text("title"),
    topic: text("topic"),
    lobby: data.get("lobby") === "on",
    floor_mode: text("floor_mode") || "open",
    media: text("media") || "auto",
    crisis_text: text("crisis_text"),
    turn_seconds: text("turn_seconds") ? Number(text("turn_seconds")) : null,
  };
  if (text("agreement")) body.agreement = text("agreement");
  return body;
}

/** @param {Record<string, unknown>} body @returns {string | null} */
function problem(body) {
  if (!body.title) return "Please give the group a title.";
  const turn = body.turn_seconds;
  // The bounds the server rendered from its limits (rooms/limits.py) into the input.
  const input = /** @type {HTMLInputElement} */ (form.elements.namedItem("turn_seconds"));
  const [min, max] = [Number(input.min), Number(input.max)];
  if (turn !== null && (!Number.isInteger(turn) || Number(turn) < min || Number(turn) > max)) {
    return `The turn timer is a whole number of seconds between ${min} and ${max}, or empty for no timer.`;
  }
  return null;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const body = roomBody(data);
  const issue = problem(body);
  errorBox.textContent = issue ?? "";
  if (issue) return;
  /** @type {Record<string, string>} */
  const headers = { "content-type": "application/json" };
  const key = String(data.get("organizer_key") ?? "").trim();
  if (key) headers.authorization = `Bearer ${key}`;
  submit.disabled = true;
  submit.textContent = "Creating the room…";
  try {
    const response = await fetch("/api/rooms", { method: "POST", headers, body: JSON.stringify(body) });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      errorBox.textContent = response.status === 401
        ? "The organizer key was not accepted. Check it and try again."
        : `The room could not be created: ${answer?.error?.message ?? "please try again"}.`;
      return;
    }
    sessionStorage.setItem(memberLinkKey(answer.room.id), answer.member_link);
    location.assign(answer.facilitator_link);
  } catch {
    errorBox.textContent = "The server could not be reached. Check your connection and try again.";
  } finally {
    submit.disabled = false;
    submit.textContent = "Create the room and go in";
  }
});

byId("open-link-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (byId("open-link-input"));
  const error = byId("open-link-error");
  try {
    const url = new URL(input.value.trim(), location.href);
    if (url.origin !== location.origin || !url.pathname.startsWith("/r/")) throw new Error("not ours");
    location.assign(url.href);
  } catch {
    error.textContent = "That does not look like a Hearth invite link for this site.";
  }
});

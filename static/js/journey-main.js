// @ts-check
/**
 * The between-sessions page, `/r/{id}/journey` (web/templates/journey.html): the next session,
 * my plans, my trend, my toolkit, the board and "My data"; with `?view=handout`, the board alone
 * to print. The link's token comes from the fragment like the room page's (ui/link.js: taken out
 * of the address bar, kept for this tab). Test hook: `window.hearthJourney = {api}`.
 */
import { JourneyApi, needsPersonalLink } from "./journey-api.js";
import { BoardView } from "./ui/board.js";
import { byId, el } from "./ui/dom.js";
import { keepsOwnJourney, needsOwnLink } from "./ui/journey-panel.js";
import { takeLinkToken } from "./ui/link.js";
import { Plans } from "./ui/plans.js";
import { renderTrend } from "./ui/trend-chart.js";

/** @typedef {import("./journey-api.js").Overview} Overview */

const app = byId("app");
const roomId = app.dataset.roomId ?? "";
const handout = app.dataset.view === "handout";
const token = takeLinkToken(roomId);
const api = new JourneyApi(roomId, () => token ?? "");
/** @type {any} */ (window).hearthJourney = { api };

/** @param {unknown} error */
function showError(error) {
  if (needsPersonalLink(error)) { byId("journey-personal").hidden = false; return; }
  const message = error instanceof Error ? error.message : "";
  byId("journey-error").textContent = `Something did not work${message ? `: ${message}` : ""}. Please try again in a moment.`;
}

if (!token) {
  byId("journey-error").textContent = "This link is incomplete: open the whole link you were given, or ask your facilitator for a new one.";
} else if (handout) {
  const board = new BoardView({ prefix: "handout-post", api, onError: showError, can: () => false, readOnly: true });
  byId("page-board-body").append(board.element);
  board.load().catch(showError);
} else {
  start().catch(showError);
}

async function start() {
  const overview = await api.overview();
  const can = (/** @type {string} */ capability) => overview.you.capabilities.includes(capability);
  const own = keepsOwnJourney(overview, can);
  const personal = own && overview.you.member !== null;
  byId("journey-personal").hidden = !needsOwnLink(overview, can);
  /** @type {HTMLAnchorElement} */ (byId("room-link")).href = `/r/${encodeURIComponent(roomId)}#k=${encodeURIComponent(token ?? "")}`;
  showNextSessions(overview);
  const board = new BoardView({ prefix: "page-post", api, onError: showError, can: (c) => can(c) && own });
  byId("page-board-body").append(board.element);
  const loads = [board.load()];
  if (own) {
    const plans = new Plans({ prefix: "page-plan", api, onError: showError, canCheer: () => true,
      canWrite: () => overview.you.member !== null });
    byId("page-plans-body").append(plans.element);
    byId("page-plans").hidden = false;
    loads.push(plans.load(overview.session.number));
  }
  if (personal) {
    for (const id of ["page-trend", "page-toolkit", "my-data"]) byId(id).hidden = false;
    loads.push(loadTrend(), loadToolkit(), loadMyData());
    wireMyData();
  }
  await Promise.all(loads);
}

/** "Tue 8 Dec, 18:00 (Europe/London)" for each of the next sessions. @param {Overview} overview */
function showNextSessions(overview) {
  const schedule = /** @type {{timezone?: string} | null | undefined} */ (overview.room.schedule);
  const zone = schedule?.timezone ?? "UTC";
  const text = byId("next-text");
  if (overview.next_sessions.length === 0) {
    text.textContent = overview.session.live ? `Session ${overview.session.number} is on now.` : "No date is set for the next session yet.";
    return;
  }
  let format;
  try {
    format = new Intl.DateTimeFormat("en-GB", { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone: zone });
  } catch {
    format = new Intl.DateTimeFormat("en-GB", { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone: "UTC" });
  }
  const [first, ...later] = overview.next_sessions.map((t) => `${format.format(new Date(t * 1000))} (${zone})`);
  text.replaceChildren(`Session ${overview.session.number}: ${first}`,
    ...(later.length ? [el("br"), `Then: ${later.join("; ")}`] : []));
}

async function loadTrend() {
  const { cards } = await api.myCards();
  renderTrend(byId("trend"), cards);
}

async function loadToolkit() {
  const { posts } = await api.toolkit();
  byId("toolkit-none").hidden = posts.length > 0;
  byId("toolkit-list").replaceChildren(...posts.map((post) => el("li", { className: "post" },
    el("p", { className: "post-text", text: post.text }),
    el("p", { className: "hint", text: `${post.author}${post.tags.length ? ` · ${post.tags.join(", ")}` : ""}` }))));
}

/** What the export holds, in words; then the export itself, pretty-printed. */
async function loadMyData() {
  const data = await api.myData();
  /** @param {unknown} list @param {string} one @param {string} many */
  const count = (list, one, many) => {
    const n = Array.isArray(list) ? list.length : 0;
    return `${n} ${n === 1 ? one : many}`;
  };
  byId("my-data-summary").textContent = `Kept about you: ${[
    count(data.plans, "action plan", "action plans"), count(data.checkins, "check-in card", "check-in cards"),
    count(data.posts, "post", "posts"), count(data.saved, "saved strategy", "saved strategies"),
    count(data.helped, "\"helped me too\"", "\"helped me too\"s"), count(data.cheers, "cheer", "cheers"),
  ].join(", ")}.`;
  byId("my-data-json").textContent = JSON.stringify(data, null, 2);
}

function wireMyData() {
  const status = byId("my-data-status");
  byId("download-data").addEventListener("click", async () => {
    try {
      const file = await api.myDataFile();
      const url = URL.createObjectURL(file);
      const link = el("a", { attrs: { href: url, download: "my-hearth-data.json" } });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) { showError(error); }
  });
  confirmWith("delete-data", async () => {
    await api.deleteMyData();
    status.textContent = "Your data is deleted. You are still in the group.";
    await Promise.all([loadMyData(), loadTrend(), loadToolkit()]);
  });
  confirmWith("leave-group", async () => {
    await api.leaveGroup();
    for (const id of ["page-plans", "page-trend", "page-toolkit", "page-board", "next-session"]) byId(id).hidden = true;
    byId("my-data-summary").textContent = "";
    byId("my-data-json").textContent = "";
    for (const button of Array.from(byId("my-data").querySelectorAll("button"))) button.disabled = true;
    status.textContent = "You have left the group, and what it kept about you is deleted. Take good care.";
  });
}

/** A button that asks first (its dialog `#{id}-dialog`), then acts. @param {string} id @param {() => Promise<void>} act */
function confirmWith(id, act) {
  const dialog = /** @type {HTMLDialogElement} */ (byId(`${id}-dialog`));
  byId(id).addEventListener("click", () => dialog.showModal());
  byId(`cancel-${id}`).addEventListener("click", () => dialog.close());
  byId(`confirm-${id}`).addEventListener("click", async () => {
    dialog.close();
    try { await act(); } catch (error) { showError(error); }
  });
}

// @ts-check
/** Speaking-time balance for facilitators, from `speaking`: a bar per person and who has not
 * spoken yet. Bars are widths set from JS (the CSP allows no inline styles in HTML). */
import { byId, el, formatDuration, syncList } from "./dom.js";

/** @param {import("../state.js").RoomState} state */
export function renderBalance(state) {
  const root = byId("speaking-balance");
  const entries = Object.entries(state.speaking)
    .filter(([id]) => state.participants.has(id))
    .sort((a, b) => b[1] - a[1]);
  const most = Math.max(1, ...entries.map(([, s]) => s));
  const spoken = entries.filter(([, s]) => s > 0);
  const silent = entries.filter(([, s]) => s <= 0).map(([id]) => state.name(id));
  let list = root.querySelector("ul");
  if (!list) {
    list = el("ul", { className: "balance-list" });
    root.replaceChildren(list, el("p", { className: "balance-silent hint" }));
  }
  syncList(list, spoken, ([id]) => id,
    ([id]) => el("li", { className: "balance-row", data: { participantId: id } },
      el("span", { className: "balance-name" }),
      el("span", { className: "balance-bar", attrs: { "aria-hidden": "true" } }, el("span", { className: "balance-fill" })),
      el("span", { className: "balance-time" })),
    (node, [id, seconds]) => {
      /** @type {HTMLElement} */ (node.querySelector(".balance-name")).textContent = state.name(id);
      /** @type {HTMLElement} */ (node.querySelector(".balance-time")).textContent = formatDuration(seconds);
      /** @type {HTMLElement} */ (node.querySelector(".balance-fill")).style.width = `${Math.round((seconds / most) * 100)}%`;
    });
  const note = /** @type {HTMLElement} */ (root.querySelector(".balance-silent"));
  note.textContent = silent.length ? `Not spoken yet: ${silent.join(", ")}` : spoken.length ? "Everyone has spoken." : "";
  note.classList.toggle("all-spoken", silent.length === 0);
}

// @ts-check
/** A participant's role, as the server knows it (`participant.role`), shown as a badge apart from
 * the name: anyone may choose a name, only a link gives a role. The badge reads "Facilitator" on
 * the screen and "Role: Facilitator" to a screen reader, so it is never heard as part of the
 * name. Members get no badge (most people in a room are members). Used by the people list, the
 * tiles and the chat (where it also carries `.chat-role`). */
import { el } from "./dom.js";

/** The visible word for each role that gets a badge. */
const ROLE_LABELS = /** @type {Record<string, string>} */ ({ facilitator: "Facilitator" });

/** Why the badge can be trusted, for its tooltip. */
const ROLE_TITLES = /** @type {Record<string, string>} */ ({
  facilitator: "A facilitator of this group: the role comes from their link, not from their name",
});

/** `role`'s badge, or null for a role without one (members).
 * @param {string} role @param {string} [extraClass] @returns {HTMLElement | null} */
export function roleBadge(role, extraClass = "") {
  const label = ROLE_LABELS[role];
  if (!label) return null;
  return el("span", { className: `role-badge ${extraClass}`.trim(), attrs: { title: ROLE_TITLES[role] ?? label } },
    el("span", { className: "visually-hidden", text: "Role:" }), " ", label);
}

/** Put `role`'s badge in `slot` (after the name), or none. Only touches the page on a change.
 * @param {HTMLElement} slot @param {string} role */
export function showRole(slot, role) {
  const label = ROLE_LABELS[role] ?? "";
  if ((slot.dataset.role ?? "") === label) return;
  slot.dataset.role = label;
  const badge = roleBadge(role);
  slot.replaceChildren(...(badge ? [badge] : []));
}

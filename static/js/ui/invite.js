// @ts-check
/** "Share this invite link" (facilitators). The member link comes from the home page (kept in
 * sessionStorage) or, when this tab has none (a facilitator who came by a link the CLI printed,
 * or in a new tab), from GET /api/rooms/{id}/member-link: the current link, not a new one, so the
 * panel shows what the group already has. "Replace with a new link" asks first (the old link
 * stops working), then rotates it with POST /api/rooms/{id}/invite, which revokes older member
 * links. After a ban the page offers the same at once (`offerRotation`): a shared link would
 * otherwise let the banned person ask to come back. */
import { toast } from "./announce.js";
import { byId } from "./dom.js";
import { memberLinkKey } from "./link.js";

export class InvitePanel {
  /** @param {string} roomId @param {string} facilitatorToken */
  constructor(roomId, facilitatorToken) {
    this.roomId = roomId;
    this.token = facilitatorToken;
    this.panel = byId("invite-panel");
    this.input = /** @type {HTMLInputElement} */ (byId("member-link"));
    this.shown = false;
    byId("copy-invite").addEventListener("click", () => this.copy());
    const ask = /** @type {HTMLDialogElement} */ (byId("rotate-invite-dialog"));
    byId("rotate-invite").addEventListener("click", () => ask.showModal());
    byId("cancel-rotate-invite").addEventListener("click", () => ask.close());
    byId("confirm-rotate-invite").addEventListener("click", async () => {
      ask.close();
      if (await this.rotate()) this.input.focus();
    });
    byId("invite-hide").addEventListener("click", () => this.show(false));
    byId("show-invite").addEventListener("click", () => { this.show(true); this.input.focus(); });
    const dialog = /** @type {HTMLDialogElement} */ (byId("rotate-member-dialog"));
    byId("rotate-member-later").addEventListener("click", () => dialog.close());
    byId("rotate-member-now").addEventListener("click", async () => {
      dialog.close();
      if (await this.rotate()) { this.show(true); this.input.focus(); }
    });
  }

  /** Right after a ban: "Rotate the member link now?" (a dialog; "Not now" keeps the link). */
  offerRotation() {
    const dialog = /** @type {HTMLDialogElement} */ (byId("rotate-member-dialog"));
    if (!dialog.open) dialog.showModal();
  }

  /** Called once the facilitator is in the room. */
  open() {
    const link = sessionStorage.getItem(memberLinkKey(this.roomId));
    this.setLink(link);
    if (!this.shown) this.show(true);
    if (!link) this.fetchCurrent();
  }

  /** The room's current member link, read without rotating (nothing shown when it cannot be
   * read: the panel then offers to create one, as before). */
  async fetchCurrent() {
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(this.roomId)}/member-link`, {
        headers: { authorization: `Bearer ${this.token}` }, cache: "no-store",
      });
      if (!response.ok) return;
      const link = String((await response.json()).member_link ?? "");
      if (!link || sessionStorage.getItem(memberLinkKey(this.roomId))) return; // a rotation was quicker
      sessionStorage.setItem(memberLinkKey(this.roomId), link);
      this.setLink(link);
    } catch { /* offline for a moment: the panel keeps offering a new link */ }
  }

  /** @param {boolean} visible */
  show(visible) {
    this.shown = visible;
    this.panel.hidden = !visible;
  }

  /** @param {string | null} link */
  setLink(link) {
    this.input.value = link ?? "";
    byId("copy-invite").hidden = !link;
    byId("rotate-invite").textContent = link ? "Replace with a new link" : "Create a new invite link";
    byId("invite-hint").textContent = link
      ? "Anyone with this link can ask to join. Keep your own facilitator link private."
      : "Create a member link to share. It replaces any earlier member link, which then stops working.";
  }

  async copy() {
    this.input.select();
    try {
      await navigator.clipboard.writeText(this.input.value);
      byId("invite-status").textContent = "Link copied. Paste it into your message to the group.";
    } catch {
      byId("invite-status").textContent = "Press Ctrl+C (or ⌘+C) to copy the selected link.";
    }
  }

  /** @returns {Promise<boolean>} whether a new link was made */
  async rotate() {
    const button = /** @type {HTMLButtonElement} */ (byId("rotate-invite"));
    button.disabled = true;
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(this.roomId)}/invite`, {
        method: "POST", headers: { authorization: `Bearer ${this.token}` },
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(answer?.error?.message ?? `HTTP ${response.status}`);
      sessionStorage.setItem(memberLinkKey(this.roomId), answer.member_link);
      this.setLink(answer.member_link);
      byId("invite-status").textContent = "New link ready. Earlier member links no longer work; people already here stay.";
      return true;
    } catch (err) {
      toast(`A new link could not be made: ${/** @type {Error} */ (err).message}.`, "warning");
      return false;
    } finally {
      button.disabled = false;
    }
  }
}

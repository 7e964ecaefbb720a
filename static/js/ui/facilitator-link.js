// @ts-check
/** "Replace my facilitator link" (facilitators): POST /api/rooms/{id}/facilitator-link behind a
 * confirmation, then the new link to copy. The old facilitator link stops working for joins and
 * for the room API; nobody is disconnected. This page switches to the new link at once (for its
 * own reconnections and later requests), since its old one is revoked too. */
import { toast } from "./announce.js";
import { byId } from "./dom.js";

export class FacilitatorLink {
  /** @param {string} roomId @param {string} token the facilitator token this page came with
   * @param {(token: string) => void} onNewToken told the new token after a rotation */
  constructor(roomId, token, onNewToken) {
    this.roomId = roomId;
    this.token = token;
    this.onNewToken = onNewToken;
    this.dialog = /** @type {HTMLDialogElement} */ (byId("facilitator-link-dialog"));
    this.input = /** @type {HTMLInputElement} */ (byId("facilitator-link"));
    byId("replace-facilitator-link").addEventListener("click", () => this.open());
    byId("cancel-facilitator-link").addEventListener("click", () => this.dialog.close());
    byId("close-facilitator-link").addEventListener("click", () => this.dialog.close());
    byId("confirm-facilitator-link").addEventListener("click", () => this.rotate());
    byId("copy-facilitator-link").addEventListener("click", () => this.copy());
  }

  open() {
    byId("facilitator-link-confirm").hidden = false;
    byId("facilitator-link-done").hidden = true;
    byId("facilitator-link-status").textContent = "";
    this.dialog.showModal();
  }

  async rotate() {
    const button = /** @type {HTMLButtonElement} */ (byId("confirm-facilitator-link"));
    button.disabled = true;
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(this.roomId)}/facilitator-link`, {
        method: "POST", headers: { authorization: `Bearer ${this.token}` },
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(answer?.error?.message ?? `HTTP ${response.status}`);
      const link = String(answer.facilitator_link);
      this.token = new URLSearchParams(new URL(link).hash.slice(1)).get("k") ?? "";
      this.onNewToken(this.token);
      this.input.value = link;
      byId("facilitator-link-confirm").hidden = true;
      byId("facilitator-link-done").hidden = false;
      byId("facilitator-link-status").textContent = "Your old facilitator link no longer works. You stay in the session.";
      this.input.select();
    } catch (err) {
      this.dialog.close();
      toast(`The facilitator link could not be replaced: ${/** @type {Error} */ (err).message}.`, "warning");
    } finally {
      button.disabled = false;
    }
  }

  async copy() {
    this.input.select();
    try {
      await navigator.clipboard.writeText(this.input.value);
      byId("facilitator-link-status").textContent = "Link copied. Keep it private.";
    } catch {
      byId("facilitator-link-status").textContent = "Press Ctrl+C (or ⌘+C) to copy the selected link.";
    }
  }
}

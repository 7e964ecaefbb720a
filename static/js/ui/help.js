// @ts-check
/** "Need help now?": the room's crisis resources and a private line to the facilitators. */
import { byId } from "./dom.js";
import { noteLength } from "./length-notes.js";

const FALLBACK = "If you are in danger or thinking about harming yourself, please call your local emergency number now. You can also write to the facilitators below: only they will see it.";

export class HelpPanel {
  /** @param {import("../protocol.js").HearthClient} client */
  constructor(client) {
    this.client = client;
    this.panel = byId("help-panel");
    this.button = byId("help-button");
    this.button.addEventListener("click", () => this.toggle());
    byId("help-close").addEventListener("click", () => this.toggle(false));
    byId("help-form").addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
    this.panel.addEventListener("keydown", (event) => { if (event.key === "Escape") this.toggle(false); });
  }

  /** @param {boolean} [open] */
  toggle(open = this.panel.hidden) {
    this.panel.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) {
      this.render();
      this.panel.scrollIntoView({ block: "nearest" });
      this.panel.focus();
    } else {
      this.button.focus();
    }
  }

  render() {
    const text = this.client.state.room?.crisis_text?.trim();
    byId("crisis-text").textContent = text || FALLBACK;
  }

  async send() {
    const input = /** @type {HTMLTextAreaElement} */ (byId("help-message"));
    const status = byId("help-status");
    const text = input.value.trim();
    if (!text) { status.textContent = "Write a few words first."; input.focus(); return; }
    try {
      await this.client.chat(text, { toFacilitators: true });
      input.value = "";
      noteLength(input);
      status.textContent = "Sent privately to the facilitators. They will see it in their chat.";
    } catch (err) {
      status.textContent = `Not sent: ${/** @type {Error} */ (err).message}. Please try again.`;
    }
  }
}

// @ts-check
/** "Need help now?": the room's crisis resources and a private line to the facilitators that
 * alerts them (`ask_help`): "Sent. A facilitator has been alerted.", then "A facilitator is on
 * it." when one acknowledges (ui/help-alerts.js). */
import { roleCan } from "../state.js";
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

  /** Whether someone who may answer help is connected (from `welcome.role_capabilities`). */
  helperHere() {
    const state = this.client.state;
    return [...state.participants.values()].some((p) => p.connected && p.id !== state.you?.id
      && roleCan(state, p.role, "answer_help"));
  }

  async send() {
    const input = /** @type {HTMLTextAreaElement} */ (byId("help-message"));
    const status = byId("help-status");
    const text = input.value.trim();
    if (!text) { status.textContent = "Write a few words first."; input.focus(); return; }
    try {
      await this.client.askHelp(text);
      input.value = "";
      noteLength(input);
      status.textContent = this.helperHere()
        ? "Sent. A facilitator has been alerted."
        : "Sent. No facilitator is connected right now: they will see it as soon as they are back. If you are in danger, call your local emergency number.";
    } catch (err) {
      status.textContent = `Not sent: ${/** @type {Error} */ (err).message}. Please try again.`;
    }
  }
}

// @ts-check
/**
 * The console's check-in setting (manage_room; docs/journey.md, "Check-ins and the group
 * summary"): whether facilitators see each member's check-in card, off by default and meant for
 * therapist-led groups. Saved with `PATCH /api/rooms/{id}` and the page's token (the client's: it
 * follows a replaced facilitator link); the box shows the room as the client knows it (welcome,
 * `room_updated`), so every member's card changes its wording at the same moment.
 */
import { toast } from "./announce.js";
import { byId } from "./dom.js";

export class CheckinSetting {
  /** @param {import("../protocol.js").HearthClient} client @param {string} roomId */
  constructor(client, roomId) {
    this.client = client;
    this.roomId = roomId;
    this.saving = false;
    this.box = /** @type {HTMLInputElement} */ (byId("checkins-setting"));
    this.box.addEventListener("change", () => { this.save(); });
    client.on("welcome", () => this.render());
    client.on("room_updated", () => this.render());
  }

  render() {
    if (!this.saving) this.box.checked = Boolean(this.client.state.room?.settings.facilitators_see_checkins);
  }

  async save() {
    const on = this.box.checked;
    this.saving = true;
    this.box.disabled = true;
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(this.roomId)}`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${this.client.options.token}`, "content-type": "application/json" },
        body: JSON.stringify({ facilitators_see_checkins: on }),
      });
      if (!response.ok) {
        const answer = await response.json().catch(() => ({}));
        this.box.checked = !on;
        toast(`Check-in cards: ${answer?.error?.message ?? "the setting was not saved"}.`, "warning");
      } else {
        toast(on ? "Facilitators now see each member's check-in card; the card tells members so."
          : "Check-in cards are now private to each member; the card tells members so.");
      }
    } catch {
      this.box.checked = !on;
      toast("Check-in cards: the server could not be reached; the setting was not saved.", "warning");
    } finally {
      this.saving = false;
      this.box.disabled = false;
    }
  }
}

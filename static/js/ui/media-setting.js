// @ts-check
/**
 * The console's "Video" setting: how the room's media travels (`media`: mesh, sfu or auto),
 * saved through the room API (`PATCH /api/rooms/{id}` with the facilitator link as bearer
 * token). The path of a session is fixed when it starts (docs/protocol.md §1.9), so a change
 * applies from the next session; the page says so rather than pretending to switch now.
 */
import { toast } from "./announce.js";
import { byId } from "./dom.js";

/** @typedef {import("../state.js").RoomState} RoomState */

const LABELS = /** @type {Record<string, string>} */ ({
  auto: "automatic, by the room's size",
  sfu: "through the group's media server",
  mesh: "directly between members' devices",
});

export class MediaSetting {
  /** @param {string} roomId @param {string} token @param {() => RoomState} state */
  constructor(roomId, token, state) {
    this.roomId = roomId;
    this.token = token;
    this.state = state;
    this.dirty = false; // the select holds a choice not saved yet: renders leave it alone
    this.select = /** @type {HTMLSelectElement} */ (byId("media-setting"));
    this.button = /** @type {HTMLButtonElement} */ (byId("apply-media"));
    this.select.addEventListener("input", () => { this.dirty = true; });
    this.button.addEventListener("click", () => this.save());
  }

  render() {
    const setting = this.state().room?.settings.media;
    if (!this.dirty && setting && document.activeElement !== this.select) this.select.value = setting;
  }

  async save() {
    const media = this.select.value;
    this.button.disabled = true;
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(this.roomId)}`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
        body: JSON.stringify({ media }),
      });
      if (!response.ok) {
        const answer = await response.json().catch(() => ({}));
        toast(`Video: ${answer?.error?.message ?? "the setting was not saved"}.`, "warning");
        return;
      }
      this.dirty = false;
      toast(`Video: ${LABELS[media] ?? media}. This applies from the next session.`);
    } catch {
      toast("Video: the server could not be reached; the setting was not saved.", "warning");
    } finally {
      this.button.disabled = false;
    }
  }
}

// @ts-check
/**
 * The console's "Schedule" (web/templates/console_schedule.html): when the group meets, saved
 * through the room API (`PATCH /api/rooms/{id}` with `schedule`, the facilitator link as bearer
 * token), like the "Video" setting (media-setting.js). The server checks the time zone and the
 * dates and says what it refused; the page shows its message.
 */
import { toast } from "./announce.js";
import { byId } from "./dom.js";

/** @typedef {import("../state.js").RoomState} RoomState */
/** `room.schedule` (docs/protocol.md §1.1).
 * @typedef {{timezone: string, weekday: number | null, time: string | null, dates: string[], minutes: number}} Schedule */

/** The browser's own time zone: the default for a new schedule. */
function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export class ScheduleEditor {
  /** @param {string} roomId @param {string} token @param {() => RoomState} state */
  constructor(roomId, token, state) {
    this.roomId = roomId;
    this.token = token;
    this.state = state;
    this.dirty = false; // the form holds changes not saved yet: renders leave it alone
    this.weekday = /** @type {HTMLSelectElement} */ (byId("schedule-weekday"));
    this.time = /** @type {HTMLInputElement} */ (byId("schedule-time"));
    this.zone = /** @type {HTMLInputElement} */ (byId("schedule-timezone"));
    this.minutes = /** @type {HTMLInputElement} */ (byId("schedule-minutes"));
    this.dates = /** @type {HTMLTextAreaElement} */ (byId("schedule-dates"));
    this.saveButton = /** @type {HTMLButtonElement} */ (byId("apply-schedule"));
    this.clearButton = /** @type {HTMLButtonElement} */ (byId("clear-schedule"));
    this.zone.value = browserZone();
    for (const field of [this.weekday, this.time, this.zone, this.minutes, this.dates]) {
      field.addEventListener("input", () => { this.dirty = true; });
    }
    this.saveButton.addEventListener("click", () => this.save(this.read()));
    this.clearButton.addEventListener("click", () => this.save(null));
  }

  /** The room's schedule into the form (unless someone is editing it). */
  render() {
    if (this.dirty) return;
    const room = /** @type {{schedule?: Schedule | null} | null} */ (this.state().room);
    const schedule = room?.schedule;
    if (!schedule) return;
    this.weekday.value = schedule.weekday === null ? "" : String(schedule.weekday);
    this.time.value = schedule.time ?? "";
    this.zone.value = schedule.timezone;
    this.minutes.value = String(schedule.minutes);
    this.dates.value = schedule.dates.map((date) => date.replace("T", " ")).join("\n");
  }

  /** @returns {Schedule} */
  read() {
    const weekly = this.weekday.value !== "";
    return {
      timezone: this.zone.value.trim() || browserZone(),
      weekday: weekly ? Number(this.weekday.value) : null,
      time: weekly ? this.time.value.slice(0, 5) || null : null,
      dates: this.dates.value.split(/[\n,]+/).map((line) => line.trim().replace(/\s+/, "T")).filter(Boolean),
      minutes: Number(this.minutes.value) || 90,
    };
  }

  /** @param {Schedule | null} schedule */
  async save(schedule) {
    this.saveButton.disabled = this.clearButton.disabled = true;
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(this.roomId)}`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
        body: JSON.stringify({ schedule }),
      });
      if (!response.ok) {
        const answer = await response.json().catch(() => ({}));
        toast(`Schedule: ${answer?.error?.message ?? "it was not saved"}.`, "warning");
        return;
      }
      this.dirty = false;
      toast(schedule ? "Schedule saved: members see the next session when they open their link." : "Schedule removed.");
    } catch {
      toast("Schedule: the server could not be reached; it was not saved.", "warning");
    } finally {
      this.saveButton.disabled = this.clearButton.disabled = false;
    }
  }
}

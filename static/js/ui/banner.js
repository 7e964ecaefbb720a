// @ts-check
/** The floor banner: "Alex has the floor - 2:31 left", with a gentle time's-up state. It is
 * not a live region (it ticks every second); announcements go through the announcer. */
import { formatDuration } from "./dom.js";

/** @typedef {import("../state.js").RoomState} RoomState */

export class FloorBanner {
  /** @param {HTMLElement} element @param {() => RoomState} getState */
  constructor(element, getState) {
    this.element = element;
    this.getState = getState;
    /** local clock minus server clock, in seconds, learnt when a turn starts */
    this.skew = 0;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.timer = null;
  }

  /** A `floor` event arrived: a new turn's started_at is the server's "now".
   * @param {import("../state.js").Floor} floor @param {import("../state.js").Floor} before */
  learnClock(floor, before) {
    if (floor.started_at !== null && floor.started_at !== before.started_at) {
      const skew = Date.now() / 1000 - floor.started_at;
      if (Math.abs(skew) < 6 * 3600) this.skew = skew;
    }
  }

  render() {
    const state = this.getState();
    const floor = state.floor;
    const holder = floor.holder ? state.participants.get(floor.holder) : undefined;
    const you = state.you;
    let text;
    let mode = "idle";
    if (holder) {
      const who = holder.id === you?.id ? `${holder.name}, you have` : `${holder.name} has`;
      const left = floor.ends_at !== null ? floor.ends_at - (Date.now() / 1000 - this.skew) : null;
      const timeUp = state.timeUpFor === holder.id || (left !== null && left <= 0);
      mode = timeUp ? "time-up" : holder.id === you?.id ? "yours" : "held";
      if (timeUp) {
        text = holder.id === you?.id
          ? `${holder.name}, your time is up - take a moment to finish your thought`
          : `${holder.name}'s time is up - they are finishing their thought`;
      } else if (left !== null) {
        text = `${who} the floor - ${formatDuration(Math.min(left, floor.turn_seconds ?? left))} left`;
      } else {
        text = `${who} the floor`;
      }
    } else {
      text = this.idleText(state);
    }
    if (this.element.textContent !== text) this.element.textContent = text;
    this.element.dataset.mode = mode;
    this.schedule(Boolean(holder && floor.ends_at !== null && mode !== "time-up"));
  }

  /** @param {RoomState} state */
  idleText(state) {
    const floor = state.floor;
    if (floor.mode === "open") return "Open floor: anyone may speak";
    if (floor.mode === "circle") return "Talking circle: waiting for the next turn";
    const next = floor.queue.find((id) => state.participants.has(id));
    return `Nobody has the floor. Raise your hand to ask to speak.${next ? ` Next: ${state.name(next)}.` : ""}`;
  }

  /** @param {boolean} ticking */
  schedule(ticking) {
    if (ticking && !this.timer) this.timer = setInterval(() => this.render(), 1000);
    if (!ticking && this.timer) { clearInterval(this.timer); this.timer = null; }
  }

  stop() {
    this.schedule(false);
  }
}

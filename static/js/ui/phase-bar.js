// @ts-check
/**
 * The phase bar everyone sees under the floor banner: "Session phase 2 of 7 · Review of last
 * week's goals · about 6 min left", then "Time to move on when the group is ready". The time is
 * a gentle guide, never a cut-off: nothing happens when it passes but these words. The line
 * itself ticks (every 15 s) and is not a live region; only a change of phase is announced
 * (politely), once.
 */
import { byId } from "./dom.js";

/** @typedef {import("../state.js").RoomState} RoomState */
/** @typedef {import("../state.js").Phase} Phase */

export const MOVE_ON = "Time to move on when the group is ready";

/** "about 6 min left" while time remains, then the gentle reminder.
 * @param {number} secondsLeft */
export function timeLeftText(secondsLeft) {
  if (secondsLeft <= 0) return MOVE_ON;
  return `about ${Math.max(1, Math.round(secondsLeft / 60))} min left`;
}

export class PhaseBar {
  /** @param {() => RoomState} getState */
  constructor(getState) {
    this.getState = getState;
    this.root = byId("phase-bar");
    this.step = byId("phase-step");
    this.name = byId("phase-name");
    this.time = byId("phase-time");
    this.live = byId("phase-live");
    /** local clock minus server clock, in seconds, learnt when a phase begins while we watch */
    this.skew = 0;
    /** @type {string} the phase last announced ("index:started_at"), so a tick never re-announces */
    this.announced = "";
    /** @type {ReturnType<typeof setInterval> | null} */
    this.timer = null;
  }

  /** A `phase` event arrived: a new phase's `started_at` is the server's "now".
   * @param {Phase | null} phase @param {Phase | null} before */
  learnClock(phase, before) {
    if (phase && phase.started_at !== before?.started_at) {
      const skew = Date.now() / 1000 - phase.started_at;
      if (Math.abs(skew) < 6 * 3600) this.skew = skew;
    }
  }

  /** Seconds left in `phase` by the server's clock. @param {Phase} phase */
  secondsLeft(phase) {
    return phase.ends_at - (Date.now() / 1000 - this.skew);
  }

  render() {
    const state = this.getState();
    const phase = state.phase;
    const total = state.room?.run_sheet?.length ?? 0;
    this.root.hidden = !phase;
    if (!phase) {
      this.announced = "";
      this.schedule(false);
      return;
    }
    const step = total ? `Session phase ${phase.index + 1} of ${total}` : "Session phase";
    const left = this.secondsLeft(phase);
    const time = timeLeftText(left);
    if (this.step.textContent !== step) this.step.textContent = step;
    if (this.name.textContent !== phase.name) this.name.textContent = phase.name;
    if (this.time.textContent !== time) this.time.textContent = time;
    this.root.dataset.kind = phase.kind;
    this.root.dataset.over = String(left <= 0);
    const key = `${phase.index}:${phase.started_at}`;
    if (key !== this.announced) {
      this.announced = key;
      this.live.textContent = `Now: ${phase.name}. ${step}, about ${phase.minutes} min.`;
    }
    this.schedule(left > 0);
  }

  /** Tick while time remains; once it has passed, the words stay until the phase changes.
   * @param {boolean} ticking */
  schedule(ticking) {
    if (ticking && !this.timer) this.timer = setInterval(() => this.render(), 15000);
    if (!ticking && this.timer) { clearInterval(this.timer); this.timer = null; }
  }

  stop() {
    this.schedule(false);
  }
}

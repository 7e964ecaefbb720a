// @ts-check
/**
 * The console's run-sheet (web/templates/console_runsheet.html), shown with "run_session":
 * "Start" / "Next phase" in one click, the current phase's notes for the facilitator alone (with
 * "see_script": the notes come only in their `welcome.script`), and the editor. The editor starts
 * from a template (`GET /api/runsheet/templates`, fetched when first opened) or the room's own
 * run-sheet (`room.run_sheet` with `script` for the notes), edits each phase's name, minutes,
 * kind, floor mode and notes (add, remove, move up and down), and saves the whole list with
 * `PATCH /api/rooms/{id}` `run_sheet`, with the facilitator link as bearer token, as the media
 * setting does. `wireRunSheet` also builds the phase bar everyone sees.
 */
import { can } from "../state.js";
import { toast } from "./announce.js";
import { byId, el } from "./dom.js";
import { PhaseBar } from "./phase-bar.js";

/** @typedef {import("../state.js").RoomState} RoomState */
/** @typedef {{name: string, minutes: number, kind: string, floor: string | null, notes: string}} EditPhase */
/** @typedef {{key: string, label: string, phases: EditPhase[]}} Template */

const KINDS = /** @type {[string, string][]} */ ([
  ["check_in", "Check-in"], ["review", "Review of goals"], ["topic", "Topic"], ["practice", "Skill practice"],
  ["sharing", "Sharing"], ["goals", "Goal setting"], ["check_out", "Check-out"], ["other", "Other"],
]);
const FLOORS = /** @type {[string, string][]} */ ([
  ["", "Leave the floor as it is"], ["open", "Open floor"], ["queue", "Queue"], ["circle", "Talking circle"],
]);

/** Build the phase bar and the console's run-sheet, rendered on every change of the room.
 * @param {import("../protocol.js").HearthClient} client @param {string} roomId */
export function wireRunSheet(client, roomId) {
  const bar = new PhaseBar(() => client.state);
  const editor = new RunSheetEditor(client, roomId);
  client.on("phase", ({ phase, before }) => bar.learnClock(phase, before));
  client.on("state", () => { bar.render(); editor.render(); });
  client.on("welcome", () => { bar.render(); editor.render(); });
  client.on("snapshot", () => { bar.render(); editor.render(); });
  return { bar, editor };
}

export class RunSheetEditor {
  /** @param {import("../protocol.js").HearthClient} client @param {string} roomId */
  constructor(client, roomId) {
    this.client = client;
    this.roomId = roomId;
    /** @type {EditPhase[]} the phases being edited */
    this.phases = [];
    this.dirty = false; // edits not saved yet: renders leave the editor alone
    this.shown = ""; // the saved run-sheet the editor shows (so a render rebuilds it only on change)
    this.awaiting = ""; // a run-sheet saved but not back from the server yet (`room_updated`, `script`)
    /** @type {Template[]} */
    this.templates = [];
    this.limits = { phases_max: 12, name_max_chars: 60, minutes_min: 1, minutes_max: 180, notes_max_chars: 2000 };
    this.loading = /** @type {Promise<void> | null} */ (null);
    this.next = /** @type {HTMLButtonElement} */ (byId("phase-next"));
    this.next.addEventListener("click", () => this.act(() => client.nextPhase(), this.next));
    const end = /** @type {HTMLButtonElement} */ (byId("phase-end"));
    end.addEventListener("click", () => this.act(() => client.setPhase(null), end));
    byId("runsheet-edit").addEventListener("toggle", () => this.loadTemplates());
    byId("runsheet-use-template").addEventListener("click", () => this.useTemplate());
    byId("runsheet-add").addEventListener("click", () => this.add());
    byId("runsheet-save").addEventListener("click", () => this.save());
  }

  /** @param {() => Promise<void>} command @param {HTMLButtonElement} button */
  async act(command, button) {
    if (button.disabled) return;
    button.disabled = true;
    try {
      await command();
    } catch (err) {
      toast(`Run-sheet: ${/** @type {Error} */ (err).message}.`, "warning");
    } finally {
      button.disabled = false;
    }
  }

  render() {
    const state = this.client.state;
    if (!can(state, "run_session")) return;
    const sheet = state.room?.run_sheet ?? [];
    const phase = state.phase;
    const last = phase !== null && phase.index === sheet.length - 1;
    this.next.textContent = phase === null ? "Start" : last ? "Finish the run-sheet" : "Next phase";
    this.next.disabled = sheet.length === 0;
    byId("phase-end").hidden = phase === null || last;
    const upcoming = phase !== null && !last ? ` Next: ${sheet[phase.index + 1]?.name ?? ""}.` : "";
    byId("runsheet-now").textContent = phase !== null
      ? `Phase ${phase.index + 1} of ${sheet.length}: ${phase.name}.${upcoming}`
      : sheet.length ? `${sheet.length} phases ready. Start when the group is settled.` : "No run-sheet yet: edit it below.";
    const notes = phase !== null && can(state, "see_script") ? state.script[phase.index] ?? "" : "";
    byId("phase-notes-box").hidden = !notes;
    byId("phase-notes").textContent = notes;
    const saved = sheet.map((p, i) => ({ ...p, floor: p.floor ?? null, notes: state.script[i] ?? "" }));
    const key = JSON.stringify(saved);
    if (this.awaiting && key === this.awaiting) {
      this.awaiting = "";
      this.dirty = false;
      this.shown = key;
      this.renderPhases();
    }
    if (!this.dirty && key !== this.shown) {
      this.shown = key;
      this.phases = saved;
      this.renderPhases();
    }
  }

  /** Fetch the templates once (they are the same for every room). */
  loadTemplates() {
    this.loading ??= (async () => {
      try {
        const response = await fetch("/api/runsheet/templates");
        const answer = await response.json();
        this.templates = answer.templates ?? [];
        this.limits = { ...this.limits, ...(answer.limits ?? {}) };
        const select = /** @type {HTMLSelectElement} */ (byId("runsheet-template"));
        for (const t of this.templates) select.append(el("option", { text: t.label, attrs: { value: t.key } }));
        this.renderPhases();
      } catch {
        this.loading = null;
        toast("Run-sheet: the templates could not be loaded.", "warning");
      }
    })();
    return this.loading;
  }

  async useTemplate() {
    await this.loadTemplates();
    const key = /** @type {HTMLSelectElement} */ (byId("runsheet-template")).value;
    const template = this.templates.find((t) => t.key === key);
    if (!template) { toast("Choose a template first.", "warning"); return; }
    this.phases = template.phases.map((p) => ({ ...p }));
    this.edited();
    this.renderPhases();
    toast(`${template.label}: ${this.phases.length} phases. Change what you like, then save.`);
  }

  add() {
    if (this.phases.length >= this.limits.phases_max) {
      toast(`A run-sheet has at most ${this.limits.phases_max} phases.`, "warning");
      return;
    }
    this.phases.push({ name: "New phase", minutes: 10, kind: "other", floor: null, notes: "" });
    this.edited();
    this.renderPhases();
    const names = byId("runsheet-phases").querySelectorAll("input.phase-name");
    /** @type {HTMLInputElement | undefined} */ (names[names.length - 1])?.focus();
  }

  edited() {
    this.dirty = true;
    this.awaiting = "";
  }

  /** @param {number} index @param {-1 | 1} delta */
  move(index, delta) {
    const to = index + delta;
    if (to < 0 || to >= this.phases.length) return;
    [this.phases[index], this.phases[to]] = [this.phases[to], this.phases[index]];
    this.edited();
    this.renderPhases();
    const row = byId("runsheet-phases").children[to];
    /** @type {HTMLElement | null} */ (row?.querySelector(delta < 0 ? ".phase-up" : ".phase-down") ?? null)?.focus();
  }

  /** @param {number} index */
  remove(index) {
    this.phases.splice(index, 1);
    this.edited();
    this.renderPhases();
  }

  renderPhases() {
    const list = byId("runsheet-phases");
    list.replaceChildren(...this.phases.map((p, i) => this.row(p, i)));
    byId("runsheet-empty").hidden = this.phases.length > 0;
    const minutes = this.phases.reduce((sum, p) => sum + (Number(p.minutes) || 0), 0);
    byId("runsheet-total").textContent = this.phases.length
      ? `${this.phases.length} phases, ${minutes} minutes in all${this.dirty && !this.awaiting ? " (not saved yet)" : ""}.` : "";
  }

  /** One phase's fields. @param {EditPhase} phase @param {number} i */
  row(phase, i) {
    const n = i + 1;
    const changed = () => this.edited();
    const name = el("input", { className: "phase-name", attrs: { type: "text", required: "",
      maxlength: String(this.limits.name_max_chars), "aria-label": `Phase ${n} name` } });
    name.value = phase.name;
    name.addEventListener("input", () => { phase.name = name.value; changed(); });
    const minutes = el("input", { className: "phase-minutes", attrs: { type: "number", inputmode: "numeric",
      min: String(this.limits.minutes_min), max: String(this.limits.minutes_max), "aria-label": `Phase ${n} minutes` } });
    minutes.value = String(phase.minutes);
    minutes.addEventListener("input", () => { phase.minutes = Number(minutes.value); changed(); });
    const kind = select(KINDS, phase.kind, `Phase ${n} kind`, "phase-kind");
    kind.addEventListener("input", () => { phase.kind = kind.value; changed(); });
    const floor = select(FLOORS, phase.floor ?? "", `Phase ${n} floor`, "phase-floor");
    floor.addEventListener("input", () => { phase.floor = floor.value || null; changed(); });
    const notes = el("textarea", { className: "phase-notes-input", attrs: { rows: "2",
      maxlength: String(this.limits.notes_max_chars), "aria-label": `Phase ${n} notes (only facilitators see them)`,
      placeholder: "Your notes (only facilitators see them)" } });
    notes.value = phase.notes;
    notes.addEventListener("input", () => { phase.notes = notes.value; changed(); });
    const button = (/** @type {string} */ cls, /** @type {string} */ text, /** @type {string} */ label,
      /** @type {() => void} */ fn) => el("button", { className: `${cls} ghost small`, text,
      attrs: { type: "button", "aria-label": label }, on: { click: fn } });
    return el("li", { className: "runsheet-phase", data: { index: String(i) } },
      el("div", { className: "phase-head" }, name, minutes, el("span", { className: "hint", text: "min" })),
      el("div", { className: "phase-options" }, kind, floor),
      notes,
      el("div", { className: "button-row" },
        button("phase-up", "Up", `Move phase ${n} up`, () => this.move(i, -1)),
        button("phase-down", "Down", `Move phase ${n} down`, () => this.move(i, 1)),
        button("phase-remove", "Remove", `Remove phase ${n}`, () => this.remove(i))));
  }

  /** The phases as the room API takes them, or a reason they cannot be saved. */
  checked() {
    const { name_max_chars: maxName, minutes_min: min, minutes_max: max } = this.limits;
    for (const [i, p] of this.phases.entries()) {
      if (!p.name.trim() || p.name.length > maxName) return `Phase ${i + 1} needs a name (up to ${maxName} characters).`;
      if (!Number.isInteger(p.minutes) || p.minutes < min || p.minutes > max) {
        return `Phase ${i + 1}: minutes are a whole number from ${min} to ${max}.`;
      }
    }
    return this.phases.map((p) => ({ name: p.name.trim(), minutes: p.minutes, kind: p.kind, floor: p.floor, notes: p.notes }));
  }

  async save() {
    const phases = this.checked();
    if (typeof phases === "string") { toast(phases, "warning"); return; }
    const button = /** @type {HTMLButtonElement} */ (byId("runsheet-save"));
    button.disabled = true;
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(this.roomId)}`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${this.client.options.token}`, "content-type": "application/json" },
        body: JSON.stringify({ run_sheet: phases }),
      });
      if (!response.ok) {
        const answer = await response.json().catch(() => ({}));
        toast(`Run-sheet: ${answer?.error?.message ?? "it was not saved"}.`, "warning");
        return;
      }
      this.awaiting = JSON.stringify(phases); // the editor keeps them until the room says so
      toast(`Run-sheet saved: ${phases.length} phases.`);
    } catch {
      toast("Run-sheet: the server could not be reached; it was not saved.", "warning");
    } finally {
      button.disabled = false;
      this.renderPhases();
    }
  }
}

/** @param {[string, string][]} options @param {string} value @param {string} label @param {string} className */
function select(options, value, label, className) {
  const node = el("select", { className, attrs: { "aria-label": label } },
    ...options.map(([v, text]) => el("option", { text, attrs: { value: v } })));
  node.value = value;
  return node;
}

// @ts-check
/** The facilitator console: lobby (admit, deny, admit all, deny all; who waits only because of
 * a ban is marked), floor mode, turn timer, circle order (move up/down buttons, keyboard
 * friendly), next/end floor, mute all, lower all hands, lock, and ending the session behind a
 * confirmation dialog. Admit and Deny are disabled while their request is in flight, and a
 * repeat that finds the person no longer waiting (`invalid_target`: a double click, or a
 * co-facilitator was quicker) is silent: nothing went wrong. */
import { ErrorCode } from "../codes.js";
import { can } from "../state.js";
import { toast } from "./announce.js";
import { byId, el, setPressed, syncList } from "./dom.js";
import { icon } from "./icons.js";

/** @typedef {import("../state.js").RoomState} RoomState */

export class Console {
  /** @param {import("../protocol.js").HearthClient} client */
  constructor(client) {
    this.client = client;
    this.root = byId("console");
    this.floorFormDirty = false;
    const click = (/** @type {string} */ id, /** @type {() => void} */ fn) => byId(id).addEventListener("click", fn);
    click("admit-all", () => this.act(() => client.admitAll(), "Admit everyone"));
    click("deny-all", () => this.act(() => client.denyAll(), "Turn everyone away"));
    click("next-floor", () => this.act(() => client.nextFloor(), "Next speaker"));
    click("end-floor", () => this.act(() => client.endFloor(), "Take the floor back"));
    click("mute-all", () => this.act(() => client.muteAll(), "Mute all"));
    click("lower-all-hands", () => this.act(() => client.lowerAllHands(), "Lower all hands"));
    click("lock-room", () => this.act(() => client.lock(!client.state.locked), "Lock"));
    click("apply-floor", () => this.applyFloor());
    click("console-toggle", () => this.toggleOpen());
    for (const id of ["floor-mode", "turn-seconds"]) {
      byId(id).addEventListener("input", () => { this.floorFormDirty = true; });
    }
    this.setupEndDialog();
  }

  toggleOpen() {
    const open = !this.root.classList.contains("open");
    this.root.classList.toggle("open", open);
    byId("console-toggle").setAttribute("aria-expanded", String(open));
  }

  setupEndDialog() {
    const dialog = /** @type {HTMLDialogElement} */ (byId("end-dialog"));
    byId("end-session").addEventListener("click", () => dialog.showModal());
    byId("cancel-end").addEventListener("click", () => dialog.close());
    byId("confirm-end").addEventListener("click", async () => {
      const button = /** @type {HTMLButtonElement} */ (byId("confirm-end"));
      button.disabled = true;
      // Ending closes our socket too: a "disconnected" refusal then is no failure.
      await this.act(() => this.client.endSession(), "End the session", { closes: true });
      button.disabled = false;
      dialog.close();
    });
  }

  /** Run one client command; say so when it is refused.
   * @param {() => Promise<void>} command @param {string} what
   * @param {{closes?: boolean, button?: HTMLButtonElement, onePerson?: boolean}} [options]
   *   `button` is disabled while the request is in flight; `onePerson`: the command names one
   *   person, and their being gone already (`invalid_target`) is no failure */
  async act(command, what, { closes = false, button, onePerson = false } = {}) {
    if (button?.disabled) return false;
    if (button) button.disabled = true;
    try {
      await command();
      return true;
    } catch (err) {
      const error = /** @type {Error & {code?: string}} */ (err);
      const quiet = (error.code === "disconnected" && closes) || (error.code === ErrorCode.INVALID_TARGET && onePerson);
      if (!quiet) toast(`${what}: ${error.message}.`, "warning");
      return false;
    } finally {
      if (button) button.disabled = false;
    }
  }

  async applyFloor() {
    const mode = /** @type {HTMLSelectElement} */ (byId("floor-mode")).value;
    const input = /** @type {HTMLInputElement} */ (byId("turn-seconds"));
    const raw = input.value.trim();
    const seconds = raw ? Number(raw) : null;
    const [min, max] = [Number(input.min), Number(input.max)]; // welcome.limits (ui/limits.js)
    if (seconds !== null && (!Number.isInteger(seconds) || seconds < min || seconds > max)) {
      toast(`The turn timer is a whole number of seconds from ${min} to ${max}, or empty for no timer.`, "warning");
      return;
    }
    const floorMode = /** @type {"open" | "queue" | "circle"} */ (mode);
    if (await this.act(() => this.client.setFloor(floorMode, { turnSeconds: seconds }), "Floor")) {
      this.floorFormDirty = false;
      toast(`Floor: ${mode === "open" ? "open" : mode === "queue" ? "queue" : "talking circle"}${seconds ? `, ${seconds} s turns` : ", no timer"}.`);
    }
  }

  /** @param {number} index @param {-1 | 1} delta */
  moveInCircle(index, delta) {
    const order = [...this.client.state.floor.order];
    const to = index + delta;
    if (to < 0 || to >= order.length) return;
    [order[index], order[to]] = [order[to], order[index]];
    this.act(() => this.client.setFloor(this.client.state.floor.mode, { order }), "Circle order");
  }

  render() {
    const state = this.client.state;
    // Each part of the console names the capability it needs (`data-needs` in console.html);
    // the console shows when any part does.
    let any = false;
    for (const part of Array.from(this.root.querySelectorAll("[data-needs]"))) {
      const allowed = can(state, /** @type {HTMLElement} */ (part).dataset.needs ?? "");
      /** @type {HTMLElement} */ (part).hidden = !allowed;
      any ||= allowed;
    }
    this.root.hidden = !any;
    if (!any) return;
    this.renderLobby(state);
    this.renderFloor(state);
    setPressed(byId("lock-room"), state.locked, state.locked ? "Room locked" : "Lock the room");
  }

  /** @param {RoomState} state */
  renderLobby(state) {
    const list = byId("lobby-list");
    syncList(list, state.lobby, (w) => w.id, (w) => el("li", { className: "waiting", data: { participantId: w.id } },
      el("span", { className: "waiting-name", text: w.name }),
      ...(w.reason === "after_ban"
        ? [el("span", { className: "waiting-reason hint", text: "came with the shared link after a ban" })] : []),
      el("span", { className: "button-row" },
        el("button", { className: "admit primary small", text: "Admit", attrs: { type: "button", "aria-label": `Admit ${w.name}` },
          on: { click: (event) => this.act(() => this.client.admit(w.id), "Admit", { button: event.currentTarget, onePerson: true }) } }),
        el("button", { className: "deny secondary small", text: "Deny", attrs: { type: "button", "aria-label": `Deny ${w.name}` },
          on: { click: (event) => this.act(() => this.client.deny(w.id), "Deny", { button: event.currentTarget, onePerson: true }) } }))),
    () => {});
    byId("lobby-count").textContent = state.lobby.length ? `(${state.lobby.length})` : "";
    byId("lobby-ban-hint").hidden = !state.lobby.some((w) => w.reason === "after_ban");
    byId("lobby-empty").hidden = state.lobby.length > 0;
    byId("admit-all").classList.toggle("quiet", state.lobby.length === 0);
    byId("deny-all").hidden = state.lobby.length < 2; // clearing a crowded lobby at once
    byId("console-toggle").dataset.waiting = String(state.lobby.length);
  }

  /** @param {RoomState} state */
  renderFloor(state) {
    const floor = state.floor;
    if (!this.floorFormDirty) this.resetFloorForm(state);
    const order = floor.order.filter((id) => state.participants.has(id));
    syncList(byId("circle-order"), order.map((id, index) => ({ id, index })), (item) => item.id,
      (item) => this.createCircleItem(item.id),
      (node, item) => this.updateCircleItem(node, item.id, item.index, order.length, state));
    byId("circle-empty").hidden = order.length > 0;
    byId("circle-order").classList.toggle("inactive", floor.mode !== "circle");
  }

  /** Show the live floor settings (leaving alone a control that has the focus). @param {RoomState} state */
  resetFloorForm(state) {
    const mode = /** @type {HTMLSelectElement} */ (byId("floor-mode"));
    const turn = /** @type {HTMLInputElement} */ (byId("turn-seconds"));
    if (document.activeElement !== mode) mode.value = state.floor.mode;
    const seconds = state.floor.turn_seconds;
    if (document.activeElement !== turn) turn.value = seconds ? String(seconds) : "";
  }

  /** @param {string} id */
  createCircleItem(id) {
    return el("li", { className: "circle-item", data: { participantId: id } },
      el("span", { className: "circle-name" }),
      el("span", { className: "button-row" },
        el("button", { className: "move-up icon-button small", attrs: { type: "button" },
          on: { click: (e) => this.moveFrom(e, -1) } }, icon("up")),
        el("button", { className: "move-down icon-button small", attrs: { type: "button" },
          on: { click: (e) => this.moveFrom(e, 1) } }, icon("down"))));
  }

  /** @param {Event} event @param {-1 | 1} delta */
  moveFrom(event, delta) {
    const li = /** @type {HTMLElement} */ (event.currentTarget).closest("li");
    const order = this.client.state.floor.order;
    const index = order.indexOf(li?.dataset.participantId ?? "");
    if (index >= 0) this.moveInCircle(index, delta);
  }

  /** @param {HTMLElement} li @param {string} id @param {number} index @param {number} count @param {RoomState} state */
  updateCircleItem(li, id, index, count, state) {
    const name = state.name(id);
    const holder = state.floor.holder === id;
    /** @type {HTMLElement} */ (li.querySelector(".circle-name")).textContent =
      `${index + 1}. ${name}${holder ? " (has the floor)" : ""}`;
    li.classList.toggle("has-floor", holder);
    const up = /** @type {HTMLButtonElement} */ (li.querySelector(".move-up"));
    const down = /** @type {HTMLButtonElement} */ (li.querySelector(".move-down"));
    up.setAttribute("aria-label", `Move ${name} up`);
    down.setAttribute("aria-label", `Move ${name} down`);
    up.setAttribute("aria-disabled", String(index === 0));
    down.setAttribute("aria-disabled", String(index === count - 1));
  }
}

// @ts-check
/** The people list: everyone's microphone, camera, hand and presence; for facilitators, a row
 * of actions per person (mute, allow to speak, lower hand, give the floor, remove, remove and
 * ban), each shown by the capabilities it needs (`NEEDS`). Actions are plain buttons so they work from the keyboard; the server checks each one.
 * Remove and "Remove and ban" sit in their own group, apart from the everyday actions (a slip
 * next to "Give the floor" must not remove anyone), and each asks first in a dialog that says who
 * and what happens, with Cancel focused. A button is disabled while its request is in flight,
 * and a repeat that finds the person already gone (`invalid_target`) is silent. */
import { ErrorCode } from "../codes.js";
import { can, roleCan } from "../state.js";
import { toast } from "./announce.js";
import { byId, el, syncList } from "./dom.js";
import { icon } from "./icons.js";
import { showRole } from "./roles.js";

/** @typedef {import("../state.js").Participant} Participant */
/** @typedef {import("../state.js").RoomState} RoomState */

/** @typedef {import("../protocol.js").HearthClient} HearthClient */
/** @typedef {(client: HearthClient, id: string) => Promise<void>} PersonCommand */

/** [class, visible text, accessible name prefix, the client command it runs] */
const MEMBER_ACTIONS = /** @type {[string, string, string, PersonCommand][]} */ ([
  ["mute", "Mute", "Mute", (client, id) => client.mute(id)],
  ["allow-speak", "Allow to speak", "Allow to speak:", (client, id) => client.allowSpeak(id)],
  ["lower-hand", "Lower hand", "Lower hand:", (client, id) => client.lowerHand(id)],
  ["give-floor", "Give the floor", "Give the floor to", (client, id) => client.giveFloor(id)],
  ["remove", "Remove…", "Remove from the session:", (client, id) => client.remove(id)],
  ["remove-ban", "Remove and ban…", "Remove and ban for this session:", (client, id) => client.remove(id, { ban: true })],
]);
/** What each action needs: a capability of yours, and (`true`) a target who is not "protected". */
const NEEDS = /** @type {Record<string, [string, boolean]>} */ ({
  "mute": ["mute_others", true],
  "allow-speak": ["mute_others", true],
  "lower-hand": ["manage_hands", false],
  "give-floor": ["run_floor", false],
  "remove": ["remove", true],
  "remove-ban": ["remove", true],
});

/** Actions that need a confirmation, and what the dialog says: [title, explanation, confirm button]. */
const CONFIRM = /** @type {Record<string, (name: string) => [string, string, string]>} */ ({
  "remove": (name) => [`Remove ${name} from the session?`,
    `${name} leaves the session at once and sees that a facilitator removed them. They can come back with the shared link (through the lobby when it is on).`,
    "Remove"],
  "remove-ban": (name) => [`Remove and ban ${name}?`,
    `${name} leaves the session at once and cannot come back to this session: with the shared link they could only wait in the lobby for you, and you will be offered to replace that link.`,
    "Remove and ban"],
});

/** The actions you may take on `p`. @param {RoomState} state @param {Participant} p */
function actionsFor(state, p) {
  const shielded = roleCan(state, p.role, "protected");
  return MEMBER_ACTIONS.filter(([cls]) => can(state, NEEDS[cls][0]) && !(NEEDS[cls][1] && shielded));
}

export class People {
  /** @param {import("../protocol.js").HearthClient} client @param {() => void} [onBanned] after a ban went through */
  constructor(client, onBanned = () => {}) {
    this.client = client;
    this.onBanned = onBanned;
    this.list = byId("people-list");
    this.dialog = /** @type {HTMLDialogElement} */ (byId("remove-dialog"));
    /** @type {(() => void) | null} what "confirm" in the dialog runs */
    this.pending = null;
    byId("cancel-remove").addEventListener("click", () => this.dialog.close());
    this.dialog.addEventListener("close", () => { this.pending = null; });
    byId("confirm-remove").addEventListener("click", () => {
      const run = this.pending;
      this.dialog.close();
      run?.();
    });
  }

  render() {
    const state = this.client.state;
    const you = state.you;
    if (!you) return;
    const people = [...state.participants.values()];
    const ordered = [...people.filter((p) => p.id === you.id), ...people.filter((p) => p.id !== you.id)];
    byId("people-count").textContent = `(${ordered.length})`;
    syncList(this.list, ordered, (p) => `${p.id}:${actionsFor(state, p).map(([cls]) => cls).join(",")}`,
      (p) => this.create(p, state), (node, p) => this.update(node, p, state));
  }

  /** @param {Participant} p @param {RoomState} state */
  create(p, state) {
    const li = el("li", { className: "person", data: { participantId: p.id } },
      el("div", { className: "person-line" },
        el("span", { className: "person-mic" }),
        el("span", { className: "person-name" }),
        el("span", { className: "person-role" }),
        el("span", { className: "person-status" })));
    const actions = actionsFor(state, p);
    /** @param {[string, string, string, PersonCommand]} action */
    const button = ([cls, text, prefix, command]) => {
      const node = el("button", {
        className: `${cls} action small`, text,
        attrs: { type: "button", "aria-label": `${prefix} ${p.name}` },
        on: { click: () => CONFIRM[cls]
          ? this.confirm(p.name, cls, () => this.act(p.id, cls, command, text, node))
          : this.act(p.id, cls, command, text, node) },
      });
      return node;
    };
    const everyday = actions.filter(([cls]) => !CONFIRM[cls]);
    const removal = actions.filter(([cls]) => CONFIRM[cls]);
    if (actions.length) {
      li.append(el("div", { className: "person-actions", attrs: { role: "group", "aria-label": `Actions for ${p.name}` } },
        ...everyday.map(button),
        ...(removal.length ? [el("div", { className: "person-removal", attrs: { role: "group", "aria-label": `Remove ${p.name}` } },
          ...removal.map(button))] : [])));
    }
    return li;
  }

  /** @param {HTMLElement} li @param {Participant} p @param {RoomState} state */
  update(li, p, state) {
    const self = p.id === state.you?.id;
    const name = /** @type {HTMLElement} */ (li.querySelector(".person-name"));
    name.textContent = `${p.name}${self ? " (you)" : ""}`;
    // The role the server knows, as a badge apart from the name (a name can say anything).
    showRole(/** @type {HTMLElement} */ (li.querySelector(".person-role")), p.role);
    const micOn = p.audio && p.can_speak;
    const mic = /** @type {HTMLElement} */ (li.querySelector(".person-mic"));
    if (mic.dataset.on !== String(micOn)) {
      mic.dataset.on = String(micOn);
      mic.replaceChildren(icon(micOn ? "mic" : "micOff"));
    }
    const queuePlace = state.floor.queue.indexOf(p.id);
    const status = [
      state.floor.holder === p.id ? "has the floor" : "",
      micOn ? "speaking allowed, mic on" : p.muted_by_facilitator ? "muted by a facilitator" : "mic off",
      p.video && !p.away ? "" : "camera off",
      p.hand !== null ? `hand raised${queuePlace >= 0 ? ` (${ordinal(queuePlace + 1)})` : ""}` : "",
      p.away ? "stepped away" : "",
      p.connected ? "" : "reconnecting",
    ].filter(Boolean).join(" · ");
    /** @type {HTMLElement} */ (li.querySelector(".person-status")).textContent = status;
    li.classList.toggle("has-floor", state.floor.holder === p.id);
    li.classList.toggle("hand-up", p.hand !== null);
    for (const button of Array.from(li.querySelectorAll("button.action"))) {
      const quiet = (button.classList.contains("allow-speak") && !p.muted_by_facilitator && !p.video_muted_by_facilitator)
        || (button.classList.contains("lower-hand") && p.hand === null)
        || (button.classList.contains("mute") && p.muted_by_facilitator);
      button.classList.toggle("quiet", quiet);
    }
  }

  /** Ask first: who, what happens; Cancel is focused (as in the End dialog).
   * @param {string} name @param {string} cls @param {() => void} run */
  confirm(name, cls, run) {
    const [title, text, action] = CONFIRM[cls](name);
    byId("remove-title").textContent = title;
    byId("remove-text").textContent = text;
    byId("confirm-remove").textContent = action;
    this.pending = run;
    if (!this.dialog.open) this.dialog.showModal();
    byId("cancel-remove").focus();
  }

  /** @param {string} target @param {string} cls @param {PersonCommand} command @param {string} what
   * @param {HTMLButtonElement} button disabled while the request is in flight (no double sends) */
  async act(target, cls, command, what, button) {
    if (button.disabled) return;
    button.disabled = true;
    try {
      await command(this.client, target);
      if (cls === "remove-ban") this.onBanned();
    } catch (err) {
      const error = /** @type {Error & {code?: string}} */ (err);
      // The person left (or a co-facilitator acted first): nothing to say.
      if (error.code !== ErrorCode.INVALID_TARGET) toast(`${what.replace("…", "")}: ${error.message}.`, "warning");
    } finally {
      button.disabled = false;
    }
  }
}

/** @param {number} n */
function ordinal(n) {
  return n === 1 ? "1st" : n === 2 ? "2nd" : n === 3 ? "3rd" : `${n}th`;
}

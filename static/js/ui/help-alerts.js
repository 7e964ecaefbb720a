// @ts-check
/** Open "Need help now?" alerts, for those who may answer help ("answer_help"): a box above the
 * room (on a phone too, without opening the facilitator tools) with who asked, when ("asked 2
 * minutes ago, 14:32"), their words, "Reply privately" (the chat then writes to that person
 * only) and "I'm on it" (closes it for every facilitator, and tells the asker). A new alert is
 * announced at once (role="alert") with the soft tone. Alerts live in the server's state, so
 * they are back after a reload or a reconnect. */
import { ErrorCode } from "../codes.js";
import { softTone } from "../media.js";
import { can } from "../state.js";
import { announce, toast } from "./announce.js";
import { byId, el, syncList } from "./dom.js";
import { icon } from "./icons.js";

/** @typedef {import("../state.js").HelpAlert} HelpAlert */

/** "just now", "1 minute ago", "5 minutes ago", "1 hour ago"… @param {number} seconds */
export function ago(seconds) {
  const minutes = Math.floor(Math.max(0, seconds) / 60);
  if (minutes < 1) return "just now";
  if (minutes < 60) return minutes === 1 ? "1 minute ago" : `${minutes} minutes ago`;
  const hours = Math.floor(minutes / 60);
  return hours === 1 ? "1 hour ago" : `${hours} hours ago`;
}

/** @param {number} ts Unix seconds */
function clock(ts) {
  return new Date(ts * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export class HelpAlerts {
  /**
   * @param {import("../protocol.js").HearthClient} client
   * @param {(person: {id: string, name: string}) => void} replyTo focus the chat on one person
   */
  constructor(client, replyTo) {
    this.client = client;
    this.replyTo = replyTo;
    this.box = byId("help-alerts");
    this.list = byId("help-alert-list");
    this.live = byId("help-alert-live");
    // The times say "asked 3 minutes ago": keep them true while the alert waits.
    this.timer = setInterval(() => { if (!this.box.hidden) this.render(); }, 30_000);
    client.on("help_alert", ({ alert, before }) => this.arrived(alert, before));
    client.on("help_closed", ({ id, by, alert }) => this.closed(id, by, alert));
    client.on("welcome", () => {
      const open = this.client.state.helpAlerts.size;
      if (!open || !can(this.client.state, "answer_help")) return;
      this.say(open === 1 ? `${[...this.client.state.helpAlerts.values()][0].name} needs help now` :
        `${open} people need help now`);
      softTone();
    });
  }

  /** @param {HelpAlert} alert @param {HelpAlert | null} before */
  arrived(alert, before) {
    this.say(`${alert.name} needs help now${before ? " (asked again)" : ""}: ${alert.text}`);
    softTone();
  }

  /** @param {string} id @param {string | null} by @param {HelpAlert | null} alert */
  closed(id, by, alert) {
    const state = this.client.state;
    if (!can(state, "answer_help") || !by) return;
    const who = by === state.you?.id ? "You are" : `${state.name(by)} is`;
    toast(`${who} on it: ${alert?.name ?? state.name(id)}'s request for help.`);
  }

  /** The assertive announcement, once per call (its own node, so the same words twice are
   * said twice). @param {string} text */
  say(text) {
    const line = document.createElement("p");
    line.textContent = text;
    this.live.replaceChildren(line);
  }

  render() {
    const state = this.client.state;
    const alerts = can(state, "answer_help")
      ? [...state.helpAlerts.values()].sort((a, b) => a.first_at - b.first_at) : [];
    this.box.hidden = alerts.length === 0;
    syncList(this.list, alerts, (a) => a.id, (a) => this.create(a), (li, a) => this.update(li, a));
  }

  /** @param {HelpAlert} alert */
  create(alert) {
    return el("li", { className: "help-alert", data: { participantId: alert.id } },
      el("p", { className: "help-alert-head" },
        el("span", { className: "help-alert-tag" }, icon("hand"), el("span", { text: "Needs help now" })),
        el("strong", { className: "help-alert-name" }),
        el("span", { className: "help-alert-when" })),
      el("p", { className: "help-alert-text" }),
      el("p", { className: "help-alert-actions button-row" },
        el("button", { className: "help-alert-reply primary small", text: "Reply privately",
          attrs: { type: "button" }, on: { click: () => this.reply(alert.id) } }),
        el("button", { className: "help-alert-ack secondary small", text: "I'm on it",
          attrs: { type: "button" }, on: { click: (event) => this.ack(alert.id, event.currentTarget) } })));
  }

  /** @param {HTMLElement} li @param {HelpAlert} alert */
  update(li, alert) {
    const state = this.client.state;
    const here = state.participants.get(alert.id);
    const where = !here ? " (has left the room)" : here.connected ? "" : " (reconnecting)";
    const set = (/** @type {string} */ selector, /** @type {string} */ text) => {
      const node = /** @type {HTMLElement} */ (li.querySelector(selector));
      if (node.textContent !== text) node.textContent = text;
    };
    set(".help-alert-name", `${alert.name}${where}`);
    const now = Date.now() / 1000;
    const times = alert.count > 1
      ? `asked ${alert.count} times, first ${ago(now - alert.first_at)} (${clock(alert.first_at)}), last ${ago(now - alert.last_at)} (${clock(alert.last_at)})`
      : `asked ${ago(now - alert.first_at)} (${clock(alert.first_at)})`;
    set(".help-alert-when", times);
    set(".help-alert-text", alert.text);
    const reply = /** @type {HTMLButtonElement} */ (li.querySelector(".help-alert-reply"));
    reply.setAttribute("aria-label", `Reply privately to ${alert.name}`);
    reply.disabled = !here;
    li.querySelector(".help-alert-ack")?.setAttribute("aria-label", `I'm on it: ${alert.name}`);
  }

  /** @param {string} id */
  reply(id) {
    const alert = this.client.state.helpAlerts.get(id);
    if (alert) this.replyTo({ id, name: this.client.state.participants.get(id)?.name ?? alert.name });
  }

  /** @param {string} id @param {HTMLButtonElement} button */
  async ack(id, button) {
    if (button.disabled) return;
    button.disabled = true;
    try {
      await this.client.ackHelp(id);
    } catch (err) {
      const error = /** @type {Error & {code?: string}} */ (err);
      // Already closed (a co-facilitator was quicker, or a double click): nothing went wrong.
      if (error.code !== ErrorCode.INVALID_TARGET) toast(`I'm on it: ${error.message}.`, "warning");
    } finally {
      button.disabled = false;
    }
  }

  stop() {
    clearInterval(this.timer);
  }
}

/** What the asker hears back, in the help panel: "A facilitator is on it." (`help_closed` for
 * their own alert, without who). @param {import("../protocol.js").HearthClient} client */
export function wireAskerNotice(client) {
  client.on("help_closed", ({ id, by }) => {
    if (by || id !== client.state.you?.id) return;
    byId("help-status").textContent = "A facilitator is on it.";
    announce("A facilitator is on it.");
  });
}

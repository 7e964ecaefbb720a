// @ts-check
/** "Our group's members" in the console (manage_members; docs/journey.md, "Personal links and
 * the roster"): add a member by pseudonym and show their personal link to copy and send
 * privately; for each member "New link" (the old one stops working), "Delete data" and "Remove
 * from group", each behind a confirmation. Talks to /api/rooms/{id}/journey/members with the
 * page's token (the client's: it follows a replaced facilitator link). */
import { can } from "../state.js";
import { toast } from "./announce.js";
import { byId, el, syncList } from "./dom.js";

/** @typedef {{id: string, name: string, added_at: number}} Member */

export class Roster {
  /** @param {import("../protocol.js").HearthClient} client @param {string} roomId */
  constructor(client, roomId) {
    this.client = client;
    this.roomId = roomId;
    this.loaded = false;
    /** @type {Member[]} */
    this.members = [];
    /** @type {(() => Promise<void>) | null} what the confirmation dialog does */
    this.pending = null;
    this.dialog = /** @type {HTMLDialogElement} */ (byId("roster-dialog"));
    this.input = /** @type {HTMLInputElement} */ (byId("roster-name"));
    byId("roster-add").addEventListener("submit", (event) => { event.preventDefault(); this.add(); });
    byId("roster-copy").addEventListener("click", () => this.copy());
    byId("roster-dialog-cancel").addEventListener("click", () => this.dialog.close());
    byId("roster-dialog-confirm").addEventListener("click", () => {
      this.dialog.close();
      const run = this.pending;
      this.pending = null;
      if (run) run();
    });
    client.on("welcome", () => {
      if (!this.loaded && can(client.state, "manage_members")) this.load();
    });
  }

  /** @param {string} path @param {RequestInit} [init] @returns {Promise<any>} */
  async call(path, init = {}) {
    const response = await fetch(`/api/rooms/${encodeURIComponent(this.roomId)}/journey${path}`, {
      ...init,
      cache: "no-store",
      headers: { authorization: `Bearer ${this.client.options.token}`,
        ...(init.body ? { "content-type": "application/json" } : {}) },
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer?.error?.message ?? `HTTP ${response.status}`);
    return answer;
  }

  async load() {
    try {
      this.members = (await this.call("/members")).members ?? [];
      this.loaded = true;
      this.render();
    } catch (err) {
      byId("roster-status").textContent = `The members could not be loaded: ${/** @type {Error} */ (err).message}.`;
    }
  }

  async add() {
    const name = this.input.value.trim();
    if (!name) return;
    const button = /** @type {HTMLButtonElement} */ (byId("roster-add-button"));
    button.disabled = true;
    try {
      const answer = await this.call("/members", { method: "POST", body: JSON.stringify({ name }) });
      this.members.push(answer.member);
      this.input.value = "";
      this.showLink(answer.member.name, String(answer.link));
      this.render();
    } catch (err) {
      byId("roster-status").textContent = `${/** @type {Error} */ (err).message}.`;
    } finally {
      button.disabled = false;
    }
  }

  /** @param {string} name @param {string} link */
  showLink(name, link) {
    byId("roster-link-text").textContent = `Send this link to ${name} privately; it is theirs alone.`;
    const box = /** @type {HTMLInputElement} */ (byId("roster-link"));
    box.value = link;
    byId("roster-link-box").hidden = false;
    byId("roster-status").textContent = "";
    box.select();
  }

  async copy() {
    const box = /** @type {HTMLInputElement} */ (byId("roster-link"));
    box.select();
    try {
      await navigator.clipboard.writeText(box.value);
      byId("roster-status").textContent = "Link copied. Send it to them privately.";
    } catch {
      byId("roster-status").textContent = "Press Ctrl+C (or ⌘+C) to copy the selected link.";
    }
  }

  /** @param {Member} member */
  async newLink(member) {
    try {
      const answer = await this.call(`/members/${encodeURIComponent(member.id)}/link`, { method: "POST" });
      this.showLink(member.name, String(answer.link));
      toast(`${member.name}'s old personal link no longer works.`, "info");
    } catch (err) {
      toast(`A new link could not be made: ${/** @type {Error} */ (err).message}.`, "warning");
    }
  }

  /** @param {string} title @param {string} text @param {string} action @param {() => Promise<void>} run */
  confirm(title, text, action, run) {
    byId("roster-dialog-title").textContent = title;
    byId("roster-dialog-text").textContent = text;
    byId("roster-dialog-confirm").textContent = action;
    this.pending = run;
    this.dialog.showModal();
  }

  /** @param {Member} member */
  deleteData(member) {
    this.confirm(`Delete ${member.name}'s data?`,
      "Their action plans, check-in cards, posts and saved strategies are deleted for good. They stay in the group and their link keeps working.",
      "Delete their data", async () => {
        try {
          await this.call(`/members/${encodeURIComponent(member.id)}/data`, { method: "DELETE" });
          byId("roster-status").textContent = `${member.name}'s data was deleted.`;
        } catch (err) {
          toast(`Their data could not be deleted: ${/** @type {Error} */ (err).message}.`, "warning");
        }
      });
  }

  /** @param {Member} member */
  remove(member) {
    this.confirm(`Remove ${member.name} from the group?`,
      "Everything the group keeps about them is deleted, and their personal link stops working for good.",
      "Remove from group", async () => {
        try {
          await this.call(`/members/${encodeURIComponent(member.id)}`, { method: "DELETE" });
          this.members = this.members.filter((m) => m.id !== member.id);
          this.render();
          byId("roster-status").textContent = `${member.name} was removed from the group.`;
        } catch (err) {
          toast(`${member.name} could not be removed: ${/** @type {Error} */ (err).message}.`, "warning");
        }
      });
  }

  render() {
    byId("roster-empty").hidden = this.members.length > 0;
    syncList(byId("roster-list"), this.members, (m) => m.id, (m) => el("li", { className: "roster-member" },
      el("span", { className: "roster-name", text: m.name }),
      el("button", { className: "secondary small", text: "New link",
        attrs: { type: "button", "aria-label": `New link for ${m.name}` }, on: { click: () => this.newLink(m) } }),
      el("button", { className: "secondary small", text: "Delete data",
        attrs: { type: "button", "aria-label": `Delete ${m.name}'s data` }, on: { click: () => this.deleteData(m) } }),
      el("button", { className: "danger-outline small", text: "Remove from group",
        attrs: { type: "button", "aria-label": `Remove ${m.name} from the group` },
        on: { click: () => this.remove(m) } })), () => {});
  }
}

// @ts-check
/** Chat: the group's messages, private messages to the facilitators and private replies to one
 * person (always textContent),
 * the sender's role as a badge apart from the name, removed messages shown as removed,
 * facilitators' delete buttons, and reactions. */
import { can } from "../state.js";
import { toast } from "./announce.js";
import { byId, el, syncList } from "./dom.js";
import { noteLength } from "./length-notes.js";
import { roleBadge } from "./roles.js";

/** @typedef {import("../state.js").ChatMessage} ChatMessage */

/** Who a private message is for, in words. @param {ChatMessage} m
 * @param {import("../state.js").RoomState} state */
function privateTag(m, state) {
  if (!m.to) return "Private, to the facilitators";
  if (m.to === state.you?.id) return "Private reply from the facilitator";
  return `Private, to ${state.participants.get(m.to)?.name ?? state.helpAlerts.get(m.to)?.name ?? "someone who left"}`;
}

/** A word for each reaction, as its name and tooltip: where no emoji font exists the emoji is a box. */
const REACTION_WORDS = /** @type {Record<string, string>} */ ({
  "💜": "Love", "👏": "Applause", "🙏": "Thanks", "🤗": "Hug", "👍": "Agree", "🌱": "Growth",
});

export class Chat {
  /** @param {import("../protocol.js").HearthClient} client */
  constructor(client) {
    this.client = client;
    this.log = byId("chat-log");
    this.input = /** @type {HTMLTextAreaElement} */ (byId("chat-input"));
    this.private = /** @type {HTMLInputElement} */ (byId("chat-private"));
    byId("chat-form").addEventListener("submit", (event) => { event.preventDefault(); this.send(); });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); this.send(); }
    });
    this.private.addEventListener("change", () => this.showAudience());
    /** @type {{id: string, name: string} | null} a private reply's person ("answer_help") */
    this.replyingTo = null;
    byId("chat-audience-clear").addEventListener("click", () => {
      if (this.replyingTo) this.replyTo(null);
      else { this.private.checked = false; this.showAudience(); }
    });
    this.reactionsShown = "";
    this.earlier = /** @type {HTMLButtonElement} */ (byId("chat-earlier"));
    this.earlier.addEventListener("click", () => this.showEarlier());
  }

  /** Load the page of messages before the oldest shown, keeping the view where it was. */
  async showEarlier() {
    const scroller = /** @type {HTMLElement} */ (this.log.parentElement);
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    this.earlier.disabled = true;
    try {
      await this.client.loadEarlierChat();
      this.render();
      scroller.scrollTop = scroller.scrollHeight - fromBottom;
    } catch (err) {
      toast(`Earlier messages could not be loaded: ${/** @type {Error} */ (err).message}.`, "warning");
    } finally {
      this.earlier.disabled = false;
    }
  }

  /** Write privately to one person ("Reply privately" on a help alert), or back to the group
   * (`null`). The audience stays until changed, and is said above the box: "To Ann only".
   * @param {{id: string, name: string} | null} person */
  replyTo(person) {
    this.replyingTo = person;
    this.private.disabled = person !== null;
    this.showAudience();
    if (person) {
      this.input.scrollIntoView({ block: "nearest" });
      this.input.focus();
    }
  }

  /** Say where the next message goes, next to the box, while it is not the whole group: "To Ann
   * only" or "To the facilitators only" (with "Write to the group instead"), and "Send
   * privately" on the button. The choice stays after sending: a second private line must not
   * reach the group by surprise (docs/client.md). */
  showAudience() {
    const person = this.replyingTo;
    const text = person ? `To ${person.name} only` : this.private.checked ? "To the facilitators only" : "";
    byId("chat-audience").hidden = !text;
    byId("chat-audience-text").textContent = text;
    byId("chat-send").textContent = text ? "Send privately" : "Send";
    this.input.placeholder = person ? `Write privately to ${person.name}`
      : this.private.checked ? "Write privately to the facilitators" : "Write to the group";
    if (text) this.input.setAttribute("aria-describedby", "chat-audience-text");
    else this.input.removeAttribute("aria-describedby");
  }

  async send() {
    const text = this.input.value.trim();
    if (!text) return;
    const button = /** @type {HTMLButtonElement} */ (byId("chat-send"));
    button.disabled = true;
    try {
      const to = this.replyingTo?.id ?? null;
      await this.client.chat(text, to ? { to } : { toFacilitators: this.private.checked });
      this.input.value = "";
      noteLength(this.input);
    } catch (err) {
      toast(`Your message was not sent: ${/** @type {Error} */ (err).message}.`, "warning");
    } finally {
      button.disabled = false;
      this.input.focus();
    }
  }

  render() {
    const state = this.client.state;
    const scroller = /** @type {HTMLElement} */ (this.log.parentElement);
    const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60;
    const messages = [...state.chat.values()];
    syncList(this.log, messages, (m) => m.id, (m) => this.create(m), (node, m) => this.update(node, m));
    byId("chat-empty").hidden = messages.length > 0 || state.chatMore;
    this.earlier.hidden = !state.chatMore;
    if (nearBottom) scroller.scrollTop = scroller.scrollHeight;
    this.renderReactions();
  }

  /** @param {ChatMessage} m */
  create(m) {
    const state = this.client.state;
    const mine = m.from === state.you?.id;
    const time = new Date(m.ts * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const li = el("li", { className: `chat-message${mine ? " mine" : ""}${m.private ? " private" : ""}`,
      data: { messageId: m.id } },
      el("p", { className: "chat-meta" },
        el("span", { className: "chat-name", text: mine ? "You" : m.name }),
        // The role the server knows, apart from the name anyone can choose.
        ...[roleBadge(m.role ?? "member", "chat-role")].filter((badge) => badge !== null),
        el("span", { className: "chat-time", text: time }),
        ...(m.private ? [el("span", { className: "chat-private-tag", text: privateTag(m, state) })] : [])),
      el("p", { className: "chat-text" }));
    if (can(state, "moderate_chat")) {
      li.append(el("button", { className: "delete-message ghost small", text: "Remove",
        attrs: { type: "button", "aria-label": `Remove this message from ${m.name}` },
        on: { click: () => this.remove(m.id) } }));
    }
    return li;
  }

  /** @param {HTMLElement} li @param {ChatMessage} m */
  update(li, m) {
    const text = /** @type {HTMLElement} */ (li.querySelector(".chat-text"));
    li.classList.toggle("deleted", Boolean(m.deleted));
    const shown = m.deleted ? "message removed" : m.text;
    if (text.textContent !== shown) text.textContent = shown;
    const remove = li.querySelector(".delete-message");
    if (remove && m.deleted) remove.remove();
  }

  /** @param {string} id */
  async remove(id) {
    try {
      await this.client.deleteChat(id);
    } catch (err) {
      toast(`The message could not be removed: ${/** @type {Error} */ (err).message}.`, "warning");
    }
  }

  renderReactions() {
    const reactions = this.client.state.reactions;
    const key = reactions.join("");
    if (key === this.reactionsShown) return;
    this.reactionsShown = key;
    // The word shows too: without an emoji font the emoji is only a box.
    byId("reactions").replaceChildren(...reactions.map((emoji) => el("button", {
      className: "reaction",
      attrs: { type: "button", "aria-label": REACTION_WORDS[emoji] ?? `React ${emoji}`, title: REACTION_WORDS[emoji] ?? "React" },
      on: { click: () => this.client.react(emoji).catch(() => toast("The reaction was not sent.", "warning")) },
    }, el("span", { className: "reaction-emoji", text: emoji, attrs: { "aria-hidden": "true" } }),
    el("span", { className: "reaction-word", text: REACTION_WORDS[emoji] ?? "" }))));
  }
}

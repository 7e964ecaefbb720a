// @ts-check
/**
 * The coping-strategies board: post what helped (tagged; named, or anonymous to the group while
 * the facilitators still see who wrote it), "This helped me too", "Save to my toolkit", and for
 * those with `moderate_board`: pin, hide, edit tags and delete. Pinned posts come first (the API's order).
 * `readOnly` (the printable handout) shows the posts without any button or form.
 */
import { el, syncList } from "./dom.js";

/** @typedef {import("../journey-api.js").JourneyApi} JourneyApi */
/** @typedef {import("../journey-api.js").Post} Post */

export const ANONYMOUS_WORDS = "Anonymous to the group (your facilitators still see who wrote it)";

export class BoardView {
  /** @param {{prefix: string, api: JourneyApi, onError: (error: unknown) => void,
   *   can: (capability: string) => boolean, readOnly?: boolean}} options */
  constructor(options) {
    this.api = options.api;
    this.onError = options.onError;
    this.can = options.can;
    this.readOnly = Boolean(options.readOnly);
    this.prefix = options.prefix;
    const p = options.prefix;
    this.tags = el("fieldset", { className: "board-tags" }, el("legend", { text: "Tags (up to 4)" }));
    this.text = el("textarea", { attrs: { id: `${p}-text`, rows: "3", maxlength: "1000" } });
    this.anonymous = el("input", { attrs: { type: "checkbox", id: `${p}-anonymous` } });
    this.status = el("p", { className: "hint", attrs: { role: "status" } });
    this.form = el("form", { className: "board-form", attrs: { novalidate: "" } },
      el("label", { text: "What helped you?", attrs: { for: `${p}-text` } }), this.text, this.tags,
      el("label", { className: "check small" }, this.anonymous, ANONYMOUS_WORDS),
      el("button", { className: "primary", text: "Post to the board", attrs: { type: "submit" } }), this.status);
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.list = el("ul", { className: "board-list" });
    this.empty = el("p", { className: "hint", text: "Nothing on the board yet. What has helped you?" });
    this.element = el("div", { className: "board" });
    if (!this.readOnly) this.element.append(this.form);
    this.element.append(this.empty, this.list);
    /** @type {string[]} */
    this.knownTags = [];
  }

  async load() {
    const board = await this.api.board();
    this.render(board.posts, board.tags);
  }

  /** @param {Post[]} posts @param {string[]} tags */
  render(posts, tags) {
    if (tags.join() !== this.knownTags.join()) {
      this.knownTags = tags;
      this.tags.replaceChildren(el("legend", { text: "Tags (up to 4)" }), ...tags.map((tag) =>
        el("label", { className: "check small tag-choice" }, el("input", { attrs: { type: "checkbox", value: tag } }), tag)));
    }
    this.form.hidden = !this.can("keep_journey");
    const shown = this.readOnly ? posts.filter((post) => !post.hidden) : posts;
    this.empty.hidden = shown.length > 0;
    syncList(this.list, shown, (post) => `${post.id}:${post.pinned}:${post.hidden}:${post.helped}:${post.helped_by_me}:${post.saved}:${post.tags.join()}`,
      (post) => this.item(post), () => {});
  }

  /** @param {Post} post */
  item(post) {
    const byline = post.author_name && post.anonymous ? `${post.author} (written by ${post.author_name})` : post.author;
    const node = el("li", { className: `post${post.pinned ? " pinned" : ""}${post.hidden ? " hidden-post" : ""}` },
      el("p", { className: "post-text", text: post.text }),
      el("p", { className: "post-meta hint" },
        ...(post.pinned ? [el("span", { className: "post-badge", text: "Pinned" }), " "] : []),
        ...(post.hidden ? [el("span", { className: "post-badge", text: "Hidden from the group" }), " "] : []),
        `${byline}${post.tags.length ? ` · ${post.tags.join(", ")}` : ""}${post.helped ? ` · helped ${post.helped}` : ""}`));
    if (this.readOnly) return node;
    const actions = el("div", { className: "post-actions" });
    /** @param {string} text @param {string} label @param {() => Promise<unknown>} change @param {boolean | null} [pressed] */
    const button = (text, label, change, pressed = null) => {
      const attrs = /** @type {Record<string, string>} */ ({ type: "button", "aria-label": label });
      if (pressed !== null) attrs["aria-pressed"] = String(pressed);
      actions.append(el("button", { className: "secondary small", text, attrs, on: { click: () => this.run(change) } }));
    };
    const about = post.text.length > 40 ? `${post.text.slice(0, 40)}…` : post.text;
    if (this.can("keep_journey") && !post.mine) {
      button(`This helped me too (${post.helped})`, `This helped me too: ${about}`,
        () => this.api.helped(post.id, !post.helped_by_me), post.helped_by_me);
    }
    if (this.can("keep_journey")) {
      button(post.saved ? "Saved to my toolkit" : "Save to my toolkit", `Save to my toolkit: ${about}`,
        () => this.api.save(post.id, !post.saved), post.saved);
    }
    if (this.can("moderate_board")) {
      button(post.pinned ? "Unpin" : "Pin", `${post.pinned ? "Unpin" : "Pin"}: ${about}`,
        () => this.api.updatePost(post.id, { pinned: !post.pinned }));
      button(post.hidden ? "Show" : "Hide", `${post.hidden ? "Show to the group" : "Hide from the group"}: ${about}`,
        () => this.api.updatePost(post.id, { hidden: !post.hidden }));
    }
    if (this.can("moderate_board") || post.mine) {
      button("Delete", `Delete: ${about}`, () => this.api.deletePost(post.id));
    }
    node.append(actions);
    if (this.can("moderate_board")) node.append(this.retag(post, about));
    return node;
  }

  /** "Edit tags" (moderators): the fixed tags as checkboxes, saved with PATCH `tags`.
   * @param {Post} post @param {string} about */
  retag(post, about) {
    const boxes = this.knownTags.map((tag) => el("label", { className: "check small tag-choice" },
      el("input", { attrs: { type: "checkbox", value: tag, ...(post.tags.includes(tag) ? { checked: "" } : {}) } }), tag));
    const form = el("form", { className: "retag-form" },
      el("fieldset", { className: "board-tags" }, el("legend", { text: `Tags of: ${about}` }), ...boxes),
      el("button", { className: "secondary small", text: "Save the tags", attrs: { type: "submit" } }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const tags = Array.from(form.querySelectorAll("input:checked")).map((box) => /** @type {HTMLInputElement} */ (box).value);
      this.run(() => this.api.updatePost(post.id, { tags }));
    });
    return el("details", { className: "post-retag" }, el("summary", { text: "Edit tags" }), form);
  }

  async submit() {
    const text = this.text.value.trim();
    const tags = Array.from(this.tags.querySelectorAll("input:checked")).map((box) => /** @type {HTMLInputElement} */ (box).value);
    if (!text) { this.status.textContent = "Write what helped you first."; return; }
    if (tags.length > 4) { this.status.textContent = "Choose at most 4 tags."; return; }
    try {
      await this.api.addPost({ text, tags, anonymous: this.anonymous.checked });
      this.form.reset();
      this.status.textContent = "Posted. Thank you for sharing.";
      await this.load();
    } catch (error) {
      this.onError(error);
    }
  }

  /** @param {() => Promise<unknown>} change */
  async run(change) {
    try {
      await change();
      await this.load();
    } catch (error) {
      this.onError(error);
    }
  }
}

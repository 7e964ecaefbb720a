// @ts-check
/**
 * Action plans: the form (what, how much, when, how often, confidence 0-10; below 7 the page
 * suggests a smaller plan as the member types), last week's plans to review (Done / Partly /
 * Changed it, an optional note, shared or not), the member's own plans, and the group's shared
 * plans and reviews with Cheer. Private unless the member shares (facilitators with `see_plans`
 * see every plan: the API decides what comes back, this only shows it).
 */
import { el, syncList } from "./dom.js";

/** @typedef {import("../journey-api.js").JourneyApi} JourneyApi */
/** @typedef {import("../journey-api.js").Plan} Plan */

export const SMALLER_HINT = "Below 7: could you make it a little smaller?";
const STATUS_WORDS = { done: "Done", partly: "Partly", changed: "Changed it" };

export class Plans {
  /** @param {{prefix: string, api: JourneyApi, onError: (error: unknown) => void,
   *   canCheer: () => boolean, canWrite: () => boolean}} options `canWrite`: plans of one's own
   *   (a personal link; a facilitator's link only reads the group's and cheers) */
  constructor(options) {
    this.api = options.api;
    this.onError = options.onError;
    this.canCheer = options.canCheer;
    this.canWrite = options.canWrite;
    this.prefix = options.prefix;
    /** the current session's number (between sessions: the next one) */
    this.session = 0;
    const p = options.prefix;
    this.form = planForm(p);
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.confidence = /** @type {HTMLInputElement} */ (this.form.querySelector(`#${p}-confidence`));
    this.smaller = /** @type {HTMLElement} */ (this.form.querySelector(`#${p}-smaller`));
    this.confidence.addEventListener("input", () => this.showHint());
    this.formStatus = /** @type {HTMLElement} */ (this.form.querySelector(".plan-status"));
    this.reviewList = el("ul", { className: "plan-list review-list" });
    this.reviewNone = el("p", { className: "hint", text: "Nothing to review: no plans from an earlier session are waiting." });
    this.mineList = el("ul", { className: "plan-list" });
    this.mineNone = el("p", { className: "hint", text: "You have no action plan yet." });
    this.groupList = el("ul", { className: "plan-list" });
    this.groupNone = el("p", { className: "hint", text: "Nobody has shared a plan with the group yet." });
    this.review = el("div", { className: "plans-review", attrs: { id: `${p}-review`, tabindex: "-1" } },
      el("h3", { text: "Last week's plans" }), this.reviewNone, this.reviewList);
    this.own = el("div", { className: "plans-own" },
      el("h3", { text: "New action plan" }), this.form,
      el("h3", { text: "My plans" }), this.mineNone, this.mineList);
    this.element = el("div", { className: "plans" },
      this.review, this.own,
      el("h3", { text: "The group's shared plans" }), this.groupNone, this.groupList);
  }

  showHint() {
    const value = this.confidence.value;
    this.smaller.hidden = value === "" || Number(value) >= 7;
  }

  /** @param {number} session */
  async load(session) {
    this.session = session;
    const { plans } = await this.api.plans();
    this.render(plans);
  }

  /** @param {Plan[]} plans */
  render(plans) {
    this.review.hidden = this.own.hidden = !this.canWrite();
    const mine = plans.filter((plan) => plan.mine);
    const toReview = mine.filter((plan) => plan.for_review ?? (plan.review === null && plan.session < this.session));
    const others = plans.filter((plan) => !plan.mine);
    this.reviewNone.hidden = toReview.length > 0;
    syncList(this.reviewList, toReview, (plan) => plan.id, (plan) => this.reviewItem(plan), () => {});
    this.mineNone.hidden = mine.length > 0;
    syncList(this.mineList, mine, (plan) => `${plan.id}:${plan.review?.status ?? ""}`,
      (plan) => el("li", { className: "plan" }, ...planBody(plan),
        el("button", { className: "ghost small", text: "Delete", attrs: { type: "button", "aria-label": `Delete the plan: ${plan.what}` },
          on: { click: () => this.run(() => this.api.deletePlan(plan.id)) } })),
      (node, plan) => this.cheerLine(node, plan, false));
    this.groupNone.hidden = others.length > 0;
    syncList(this.groupList, others, (plan) => `${plan.id}:${plan.review?.status ?? ""}`,
      (plan) => el("li", { className: "plan" }, el("p", { className: "plan-owner", text: plan.owner_name }), ...planBody(plan)),
      (node, plan) => this.cheerLine(node, plan, this.canCheer() && (plan.shared || Boolean(plan.review?.shared))));
  }

  /** The cheers of a plan, and the Cheer button where this person may cheer.
   * @param {HTMLElement} node @param {Plan} plan @param {boolean} offer */
  cheerLine(node, plan, offer) {
    let line = /** @type {HTMLElement | null} */ (node.querySelector(".cheer-line"));
    if (!line) { line = el("p", { className: "cheer-line" }); node.append(line); }
    const words = plan.cheers === 1 ? "1 cheer" : `${plan.cheers} cheers`;
    if (!offer) {
      line.replaceChildren(plan.cheers ? el("span", { className: "hint", text: words }) : "");
      return;
    }
    line.replaceChildren(el("button", {
      className: "secondary small cheer", text: plan.cheered ? `Cheered (${plan.cheers})` : `Cheer (${plan.cheers})`,
      attrs: { type: "button", "aria-pressed": String(plan.cheered), "aria-label": `Cheer ${plan.owner_name}: ${plan.what}` },
      on: { click: () => this.run(() => this.api.cheer(plan.id, !plan.cheered)) },
    }));
  }

  /** @param {Plan} plan */
  reviewItem(plan) {
    const id = `${this.prefix}-review-${plan.id}`;
    const note = el("textarea", { attrs: { id: `${id}-note`, rows: "2", maxlength: "500" } });
    const share = el("input", { attrs: { type: "checkbox" } });
    const status = el("p", { className: "hint", attrs: { role: "status" } });
    const choices = Object.entries(STATUS_WORDS).map(([value, words]) => el("label", { className: "check small" },
      el("input", { attrs: { type: "radio", name: `${id}-status`, value } }), words));
    const form = el("form", { className: "review-form" },
      el("fieldset", { className: "review-choice" }, el("legend", { text: "How did it go?" }), ...choices),
      el("label", { text: "How it went (optional)", attrs: { for: `${id}-note` } }), note,
      el("label", { className: "check small" }, share, "Share how it went with the group"),
      el("button", { className: "primary small", text: "Save", attrs: { type: "submit" } }), status);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const chosen = /** @type {HTMLInputElement | null} */ (form.querySelector("input[type=radio]:checked"));
      if (!chosen) { status.textContent = "Choose Done, Partly or Changed it."; return; }
      const value = /** @type {"done" | "partly" | "changed"} */ (chosen.value);
      this.run(() => this.api.reviewPlan(plan.id, { status: value, note: note.value.trim(), shared: share.checked }));
    });
    return el("li", { className: "plan review" }, ...planBody(plan), form);
  }

  async submit() {
    const value = (/** @type {string} */ name) =>
      /** @type {HTMLInputElement} */ (this.form.querySelector(`#${this.prefix}-${name}`)).value.trim();
    const what = value("what");
    const confidence = value("confidence");
    if (!what) { this.formStatus.textContent = "Write what you will do."; return; }
    if (confidence === "" || !/^\d+$/.test(confidence) || Number(confidence) > 10) {
      this.formStatus.textContent = "Choose how sure you are, from 0 to 10.";
      return;
    }
    const shared = /** @type {HTMLInputElement} */ (this.form.querySelector(`#${this.prefix}-shared`)).checked;
    try {
      await this.api.addPlan({ what, how_much: value("how-much"), when: value("when"), how_often: value("how-often"),
        confidence: Number(confidence), shared });
      this.form.reset();
      this.showHint();
      this.formStatus.textContent = "Saved. Your plan is in My plans.";
      await this.load(this.session);
    } catch (error) {
      this.onError(error);
    }
  }

  /** Do one change, then show the plans as they are now. @param {() => Promise<unknown>} change */
  async run(change) {
    try {
      await change();
      await this.load(this.session);
    } catch (error) {
      this.onError(error);
    }
  }
}

/** The words of a plan (and of its review, once there is one). @param {Plan} plan */
function planBody(plan) {
  const details = [plan.how_much, plan.when, plan.how_often].filter(Boolean).join(" · ");
  const parts = [el("p", { className: "plan-what", text: plan.what })];
  if (details) parts.push(el("p", { className: "hint", text: details }));
  parts.push(el("p", { className: "hint", text:
    `${plan.session > 0 ? `Session ${plan.session} · ` : ""}confidence ${plan.confidence}/10${plan.shared ? " · shared with the group" : ""}` }));
  if (plan.review) {
    const words = STATUS_WORDS[plan.review.status] ?? plan.review.status;
    parts.push(el("p", { className: "plan-review", text: `${words}${plan.review.note ? `: ${plan.review.note}` : ""}` }));
  }
  return parts;
}

/** @param {string} p */
function planForm(p) {
  /** @param {string} name @param {string} label @param {number} max @param {string} [placeholder] */
  const field = (name, label, max, placeholder = "") => el("div", { className: "field" },
    el("label", { text: label, attrs: { for: `${p}-${name}` } }),
    el("input", { attrs: { id: `${p}-${name}`, maxlength: String(max), placeholder } }));
  return el("form", { className: "plan-form", attrs: { novalidate: "" } },
    field("what", "What will you do?", 200, "For example: a walk round the block"),
    field("how-much", "How much?", 100, "For example: 10 minutes"),
    field("when", "When?", 100, "For example: after lunch"),
    field("how-often", "How often?", 100, "For example: 3 days this week"),
    el("div", { className: "field" },
      el("label", { text: "How sure are you that you can do it? (0-10)", attrs: { for: `${p}-confidence` } }),
      el("input", { attrs: { id: `${p}-confidence`, type: "number", min: "0", max: "10", step: "1", inputmode: "numeric",
        "aria-describedby": `${p}-smaller` } })),
    el("p", { className: "smaller-hint", text: SMALLER_HINT, attrs: { id: `${p}-smaller`, hidden: "", role: "status" } }),
    el("label", { className: "check small" }, el("input", { attrs: { type: "checkbox", id: `${p}-shared` } }),
      "Share with the group"),
    el("button", { className: "primary", text: "Save my plan", attrs: { type: "submit" } }),
    el("p", { className: "hint plan-status", attrs: { role: "status" } }));
}

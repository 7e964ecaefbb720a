// @ts-check
/**
 * The private check-in (and check-out) card: the three PEG items, 0-10 each, as radio groups
 * (no value is preset, so nothing is answered for the member), "Save" and "Skip". Always
 * optional: nothing waits for it, in the lobby or in the room. The card says who can see it,
 * from the room's `facilitators_see_checkins` setting. Built here (not in a template) because
 * the same card shows in the lobby and in the "Our group" panel.
 */
import { el } from "./dom.js";

/** @typedef {import("../journey-api.js").JourneyApi} JourneyApi */
/** @typedef {import("../journey-api.js").CheckKind} CheckKind */
/** @typedef {import("../journey-api.js").PegAnswers} PegAnswers */

/** The three PEG items (the mean is the score), with the words at each end of the scale. */
export const PEG_ITEMS = /** @type {const} */ ([
  ["pain", "Pain on average this week", "No pain", "Pain as bad as you can imagine"],
  ["enjoyment", "How much pain got in the way of enjoying life", "Not at all", "Completely"],
  ["activity", "How much pain got in the way of your general activity", "Not at all", "Completely"],
]);

export const ONLY_YOU = "Only you, and the group's total once five people have answered.";
export const WITH_FACILITATORS = "You and your facilitators.";

export class CheckinCard {
  /**
   * @param {{prefix: string, api: JourneyApi, onSaved?: () => void, heading?: "h2" | "h3",
   *   onError: (error: unknown) => void}} options `prefix` keeps the element ids apart (lobby,
   *   panel); `heading`: the title's level where the card goes (h3 by default)
   */
  constructor(options) {
    this.api = options.api;
    this.onSaved = options.onSaved ?? (() => {});
    this.onError = options.onError;
    const p = options.prefix;
    /** @type {CheckKind} */
    this.kind = "in";
    this.title = el(options.heading ?? "h3", { text: "Check-in", attrs: { id: `${p}-title` } });
    this.who = el("p", { className: "hint checkin-who", attrs: { id: `${p}-who` } });
    this.status = el("p", { className: "hint", attrs: { role: "status" } });
    this.form = el("form", { className: "checkin-form", attrs: { novalidate: "" } },
      ...PEG_ITEMS.map(([name, label, low, high]) => scale(p, name, label, low, high)),
      el("div", { className: "button-row" },
        el("button", { className: "primary", text: "Save my check-in", attrs: { type: "submit" } }),
        el("button", { className: "ghost", text: "Skip", attrs: { type: "button" },
          on: { click: () => this.skip() } })),
      this.status);
    this.again = el("button", { className: "secondary small", text: "Fill in the card", attrs: { type: "button", hidden: "" },
      on: { click: () => this.open() } });
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.save(); });
    this.element = el("section", { className: "checkin-card", attrs: { "aria-labelledby": `${p}-title`,
      "aria-describedby": `${p}-who` } }, this.title, this.who, this.form, this.again);
    this.setVisibility(false);
  }

  /** Check-in (the start of a session) or check-out (its end). @param {CheckKind} kind */
  setKind(kind) {
    if (kind !== this.kind) this.status.textContent = "";
    this.kind = kind;
    this.title.textContent = kind === "out" ? "Check-out" : "Check-in";
  }

  /** Who can see the card: said on the card itself. @param {boolean} facilitatorsSee */
  setVisibility(facilitatorsSee) {
    this.who.textContent = `Your check-in is private. Who can see it: ${facilitatorsSee ? WITH_FACILITATORS : ONLY_YOU}`;
  }

  /** @returns {PegAnswers | null} */
  answers() {
    /** @type {Record<string, number>} */
    const found = {};
    for (const [name] of PEG_ITEMS) {
      const checked = /** @type {HTMLInputElement | null} */ (this.form.querySelector(`input[name="${name}"]:checked`));
      if (!checked) return null;
      found[name] = Number(checked.value);
    }
    return { pain: found.pain, enjoyment: found.enjoyment, activity: found.activity };
  }

  async save() {
    const answers = this.answers();
    if (!answers) {
      this.status.textContent = "Choose a number for each of the three questions, or press Skip.";
      return;
    }
    try {
      await this.api.checkIn(this.kind, answers);
      this.status.textContent = `Saved. Thank you. Your score this time: ${score(answers)}.`;
      this.onSaved();
    } catch (error) {
      this.onError(error);
    }
  }

  /** Say that this session's card of this kind is in already (it can still be changed).
   * @param {import("../journey-api.js").Card[]} cards the member's cards @param {number} session */
  showSaved(cards, session) {
    const card = cards.find((c) => c.session === session && c.kind === this.kind);
    if (card) this.status.textContent = `Your ${this.kind === "out" ? "check-out" : "check-in"} for this session is saved (score ${card.score.toFixed(1)}). You can change it.`;
  }

  skip() {
    this.form.hidden = true;
    this.again.hidden = false;
    this.status.textContent = "";
    this.again.focus();
  }

  open() {
    this.form.hidden = false;
    this.again.hidden = true;
  }
}

/** The mean of the three answers, one decimal (as the server computes it). @param {PegAnswers} a */
function score(a) {
  return (Math.round(((a.pain + a.enjoyment + a.activity) / 3) * 10) / 10).toFixed(1);
}

/**
 * One item: a fieldset whose legend is the question, eleven radios 0-10 and the end words.
 * @param {string} prefix @param {string} name @param {string} label @param {string} low @param {string} high
 */
function scale(prefix, name, label, low, high) {
  const ends = `${prefix}-${name}-ends`;
  const options = Array.from({ length: 11 }, (_, n) => el("label", { className: "peg-option" },
    el("input", { attrs: { type: "radio", name, value: String(n), "aria-describedby": ends } }),
    el("span", { text: String(n) })));
  return el("fieldset", { className: "peg-item" },
    el("legend", { text: label }),
    el("div", { className: "peg-scale" }, ...options),
    el("p", { className: "peg-ends hint", attrs: { id: ends } },
      el("span", { text: `0: ${low}` }), el("span", { text: `10: ${high}` })));
}

// @ts-check
/**
 * The room page's "Our group" panel (web/templates/journey_panel.html): the check-in card, my
 * plans (and last week's to review), the coping-strategies board and the group's check-in
 * summary, all over the journey HTTP API (journey-api.js). The lobby shows the check-in card too
 * (optional: nothing waits for it). Shown by capability; refetched on `journey_changed` (the
 * event carries no content) and when a section is opened; the run-sheet's current phase
 * (`state.phase.kind`, when the server sends it) opens the section that fits.
 */
import { ErrorCode } from "../codes.js";
import { JourneyApi, JourneyError, needsPersonalLink } from "../journey-api.js";
import { BoardView } from "./board.js";
import { CheckinCard } from "./checkin-card.js";
import { byId, el } from "./dom.js";
import { Plans } from "./plans.js";

/** @typedef {import("../protocol.js").HearthClient} HearthClient */
/** @typedef {import("../journey-api.js").Overview} Overview */

export const PERSONAL_LINK_WORDS = "Ask your facilitator for a personal link to keep your goals and check-ins.";
const TOO_FEW_WORDS = "Fewer than five people have answered, so the group's total stays private for now. It shows once five have answered.";

/** Whether this link keeps a journey of its own: a personal link (the API names the member) or a
 * link that runs the group (`manage_members`: a facilitator's posts say "Facilitator").
 * @param {Overview | null} overview @param {(capability: string) => boolean} can */
export function keepsOwnJourney(overview, can) {
  return can("keep_journey") && (overview?.you.member != null || can("manage_members"));
}

/** Whether to ask for a personal link: a member's shared link (the API names nobody, and the
 * link does not run the group), whatever else it may do.
 * @param {Overview | null} overview @param {(capability: string) => boolean} can */
export function needsOwnLink(overview, can) {
  return overview !== null && overview.you.member === null && !can("manage_members");
}

export class JourneyPanel {
  /** @param {{client: HearthClient, roomId: string, token: () => string}} options */
  constructor(options) {
    this.client = options.client;
    this.roomId = options.roomId;
    this.token = options.token;
    this.api = new JourneyApi(options.roomId, options.token);
    /** @type {Overview | null} */
    this.overview = null;
    /** @type {string | null} the phase kind last acted on */
    this.phaseKind = null;
    const onError = (/** @type {unknown} */ error) => this.showError(error);
    // On the board, "keep_journey" means a journey of one's own (a shared link only reads it).
    const can = (/** @type {string} */ capability) =>
      capability === "keep_journey" ? this.ownJourney() : this.can(capability);
    this.card = new CheckinCard({ prefix: "journey-checkin", api: this.api, onError, onSaved: () => this.loadSummary() });
    this.lobbyCard = new CheckinCard({ prefix: "lobby-checkin", heading: "h2", api: this.api, onError: (error) => this.showLobbyError(error) });
    this.plans = new Plans({ prefix: "journey-plan", api: this.api, onError, canCheer: () => this.ownJourney(),
      canWrite: () => this.overview?.you.member != null });
    this.board = new BoardView({ prefix: "journey-post", api: this.api, onError, can });
    byId("journey-checkin-body").append(this.card.element);
    byId("journey-plans-body").append(this.plans.element);
    byId("journey-board-body").append(this.board.element);
    byId("journey-close-round").addEventListener("click", () => this.closeRound());
    for (const [id, load] of /** @type {[string, () => Promise<unknown>][]} */ ([
      ["journey-plans", () => this.loadPlans()], ["journey-board", () => this.board.load()],
      ["journey-summary", () => this.loadSummary()]])) {
      byId(id).addEventListener("toggle", () => { if (/** @type {HTMLDetailsElement} */ (byId(id)).open) load().catch(onError); });
    }
    this.subscribe();
  }

  /** @param {string} capability */
  can(capability) {
    const state = this.client.state;
    return this.client.welcomed ? state.capabilities.has(capability) : Boolean(this.overview?.you.capabilities.includes(capability));
  }

  ownJourney() {
    return keepsOwnJourney(this.overview, (capability) => this.can(capability));
  }

  subscribe() {
    const { client } = this;
    client.on("welcome", () => { this.refresh().catch((error) => this.showError(error)); });
    client.on("lobby", () => { this.showLobby().catch((error) => this.showLobbyError(error)); });
    client.on("journey_changed", (/** @type {{what?: string}} */ change) => this.onChanged(change?.what ?? ""));
    client.on("state", () => this.followPhase());
    client.on("room_updated", () => { this.applyRoom(); this.loadCards().catch((error) => this.showError(error)); });
  }

  /** Everything, after a welcome (a first join, a resume, a new session). */
  async refresh() {
    this.overview = await this.api.overview();
    const panel = byId("journey-panel");
    panel.hidden = !this.can("keep_journey") && !this.can("moderate_board") && !needsOwnLink(this.overview, (c) => this.can(c));
    const link = /** @type {HTMLAnchorElement} */ (byId("journey-link"));
    link.href = `/r/${encodeURIComponent(this.roomId)}/journey#k=${encodeURIComponent(this.token())}`;
    const own = this.ownJourney();
    byId("journey-personal").hidden = !needsOwnLink(this.overview, (c) => this.can(c));
    byId("journey-checkin").hidden = !own || this.overview.you.member === null;
    byId("journey-plans").hidden = !own;
    this.applyRoom();
    this.followPhase();
    await Promise.all([this.loadPlans(), this.board.load(), this.loadSummary(), this.loadMyCard()]);
  }

  /** Whether the room lets facilitators see each card (the client's room: it follows changes). */
  facilitatorsSee() {
    const setting = this.client.state.room?.settings ?? this.overview?.room.settings;
    return Boolean(/** @type {{facilitators_see_checkins?: boolean} | undefined} */ (setting)?.facilitators_see_checkins);
  }

  applyRoom() {
    this.card.setVisibility(this.facilitatorsSee());
    this.lobbyCard.setVisibility(this.facilitatorsSee());
  }

  /** This session's cards with names, for `see_checkins` where the room's setting is on; else
   * nothing is asked (the API would refuse) and nothing shown. */
  async loadCards() {
    const box = byId("journey-cards");
    if (!this.overview || !this.can("see_checkins") || !this.facilitatorsSee()) {
      box.hidden = true;
      byId("journey-cards-list").replaceChildren();
      return;
    }
    let cards;
    try {
      ({ cards } = await this.api.sessionCards());
    } catch (error) {
      // Turned off meanwhile: the room_updated on its way hides the list.
      if (error instanceof JourneyError && error.code === ErrorCode.FORBIDDEN) { box.hidden = true; return; }
      throw error;
    }
    box.hidden = false;
    cards.sort((a, b) => a.name.localeCompare(b.name) || a.kind.localeCompare(b.kind));
    byId("journey-cards-list").replaceChildren(...cards.map((c) => el("li", { text:
      `${c.name || "A member"}, ${c.kind === "out" ? "check-out" : "check-in"}: pain ${c.pain}, enjoyment ${c.enjoyment}, activity ${c.activity}; score ${c.score.toFixed(1)}` })));
    byId("journey-cards-none").hidden = cards.length > 0;
  }

  /** A card filled in already (in the lobby, or before a reload) says so. */
  async loadMyCard() {
    if (!this.overview || this.overview.you.member === null || !this.ownJourney()) return;
    const { cards } = await this.api.myCards();
    this.card.showSaved(cards, this.overview.session.number);
  }

  async loadPlans() {
    if (!this.ownJourney() || !this.overview) return;
    await this.plans.load(this.overview.session.number);
  }

  /** @param {string} what */
  onChanged(what) {
    const loads = {
      board: () => this.board.load(),
      plans: () => this.loadPlans(),
      checkins: () => this.loadSummary(),
    };
    const load = loads[/** @type {keyof typeof loads} */ (what)];
    (load ? load() : this.refresh()).catch((error) => this.showError(error));
  }

  /** Open the section that fits the run-sheet's phase (once per phase kind, so a person who
   * closes it again is left alone). */
  followPhase() {
    const kind = this.client.state.phase?.kind ?? null;
    if (kind === this.phaseKind) return;
    this.phaseKind = kind;
    this.card.setKind(kind === "check_out" ? "out" : "in");
    const open = (/** @type {string} */ id) => { /** @type {HTMLDetailsElement} */ (byId(id)).open = true; };
    if (kind === "check_in" || kind === "check_out") { open("journey-checkin"); this.card.open(); }
    else if (kind === "review" || kind === "goals") open("journey-plans");
    if (kind === "review") byId("journey-plan-review").scrollIntoView({ block: "nearest" });
  }

  async loadSummary() {
    const { summaries } = await this.api.summaries();
    const list = byId("journey-summary-list");
    list.replaceChildren(...summaries.map((s) => el("li", { text:
      `Session ${s.session}, ${s.kind === "out" ? "check-out" : "check-in"}: ${s.n} people answered; the group's average score ${s.score.toFixed(1)} (0 to 10).` })));
    byId("journey-summary-none").hidden = summaries.length > 0;
    byId("journey-close-round").hidden = !this.can("run_session") || !this.overview?.session.live;
    await this.loadCards();
  }

  async closeRound() {
    const status = byId("journey-summary-status");
    try {
      await this.api.closeRound(this.phaseKind === "check_out" ? "out" : "in");
      status.textContent = "The group's summary is shown to everyone.";
      await this.loadSummary();
    } catch (error) {
      if (error instanceof JourneyError && error.code === ErrorCode.TOO_FEW_ANSWERS) status.textContent = TOO_FEW_WORDS;
      else this.showError(error);
    }
  }

  /** The lobby: the check-in card (optional; "Skip" and the lobby go on as before). */
  async showLobby() {
    const host = document.querySelector("#screen-lobby .lobby-card");
    if (!host) return;
    if (!this.lobbyCard.element.isConnected) {
      host.insertBefore(el("div", { className: "lobby-checkin", attrs: { id: "lobby-checkin" } },
        this.lobbyCard.element, el("p", { className: "form-error", attrs: { id: "lobby-checkin-error", role: "alert" } })),
      document.getElementById("lobby-leave"));
      host.insertBefore(el("p", { className: "lobby-journey-link", attrs: { id: "lobby-journey", hidden: "" } },
        el("a", { text: "Our group between sessions", attrs: { id: "lobby-journey-link", target: "_blank", rel: "noopener",
          href: `/r/${encodeURIComponent(this.roomId)}/journey#k=${encodeURIComponent(this.token())}` } })),
      document.getElementById("lobby-leave"));
    }
    if (!this.overview) this.overview = await this.api.overview();
    this.applyRoom();
    const own = this.ownJourney() && this.overview.you.member !== null;
    byId("lobby-checkin").hidden = !own;
    // While waiting (between sessions too), the group's plans, board and "my data" are a click away.
    byId("lobby-journey").hidden = false;
  }

  /** @param {unknown} error */
  showLobbyError(error) {
    const box = document.getElementById("lobby-checkin-error");
    if (box) box.textContent = errorWords(error);
  }

  /** @param {unknown} error */
  showError(error) {
    if (needsPersonalLink(error)) {
      byId("journey-personal").hidden = false;
      return;
    }
    byId("journey-error").textContent = errorWords(error);
  }
}

/** @param {unknown} error */
function errorWords(error) {
  if (needsPersonalLink(error)) return PERSONAL_LINK_WORDS;
  if (error instanceof JourneyError) return `That did not work: ${error.message}`;
  console.debug("hearth: journey", error);
  return "That did not work. Please try again in a moment.";
}

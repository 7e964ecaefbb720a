// @ts-check
/**
 * Your own controls: microphone, camera, hand, "I pass", step away, leave.
 *
 * The server is the truth about your voice. A local track is enabled only while you want it on
 * AND the server says it is on AND you may speak; switching off is immediate, switching on
 * waits for the server's ack (a refusal, `not_allowed_to_speak`, leaves it off and says why).
 * When a facilitator mutes you or the floor moves on, the server sets your `audio` false and
 * the track is disabled in the same event handler.
 *
 * When you get the floor, or a facilitator allows you to speak again, a visible prompt under the
 * buttons says so and the microphone button is marked, until you switch it on, or the floor
 * moves on, or you are muted again (the announcer says it to a screen reader).
 */
import { ErrorCode } from "../codes.js";
import { toast } from "./announce.js";
import { byId, setPressed } from "./dom.js";

/** @typedef {import("../state.js").RoomState} RoomState */
/** @typedef {import("../state.js").Participant} Participant */

/** Why you may not switch your microphone on right now ("" when you may). @param {RoomState} state */
export function micReason(state) {
  const you = state.you;
  if (!you || you.can_speak) return "";
  if (you.muted_by_facilitator) return "A facilitator muted you. Your microphone stays off until they allow you to speak again.";
  const holder = state.floor.holder ? state.participants.get(state.floor.holder) : undefined;
  if (state.floor.mode === "circle") {
    return holder ? `${holder.name} has the floor. You can speak when the circle comes to you.`
      : "Talking circle: you can speak when the floor comes to you.";
  }
  return holder ? `${holder.name} has the floor. Raise your hand to ask to speak.`
    : "Raise your hand to ask for the floor.";
}

export class Controls {
  /**
   * @param {{client: import("../protocol.js").HearthClient, mesh: import("../playback.js").MediaPath,
   *   wantMic: boolean, wantCamera: boolean, onLeave: () => void}} options
   */
  constructor(options) {
    this.client = options.client;
    this.mesh = options.mesh;
    this.micWanted = options.wantMic;
    this.camWanted = options.wantCamera;
    this.onLeave = options.onLeave;
    /** @type {"floor" | "allowed" | null} why the microphone prompt shows */
    this.prompt = null;
    this.hadFloor = false;
    byId("toggle-mic").addEventListener("click", () => this.toggleMic());
    byId("toggle-camera").addEventListener("click", () => this.toggleCamera());
    byId("toggle-hand").addEventListener("click", () => this.act(() => this.client.hand(this.you?.hand === null)));
    byId("pass-button").addEventListener("click", () => this.act(() => this.client.pass()));
    byId("away-button").addEventListener("click", () => this.toggleAway());
    byId("leave-button").addEventListener("click", () => this.onLeave());
  }

  get state() { return this.client.state; }
  get you() { return this.client.state.you; }
  get hasMic() { return this.mesh.localAudioTrack() !== null; }
  get hasCamera() { return this.mesh.localVideoTrack() !== null; }

  audioClaim() { return Boolean(this.micWanted && this.hasMic && this.you?.can_speak); }
  videoClaim() {
    const you = this.you;
    return Boolean(this.camWanted && this.hasCamera && you && !you.away && !you.video_muted_by_facilitator);
  }

  /** After a welcome: a fresh join uses the join screen's choices, a resume keeps the seat's.
   * @param {boolean} resumed */
  onWelcome(resumed) {
    const you = this.you;
    if (!you) return;
    if (resumed) {
      this.micWanted = you.audio;
      this.camWanted = you.video || (you.away && this.camWanted);
    }
    this.apply();
    this.sendMediaIfNeeded();
  }

  /** Your participant changed (any cause). @param {Participant | null} before @param {Participant} after */
  onSelfUpdated(before, after) {
    if (before?.audio && !after.audio) this.micWanted = false; // muted, floor moved on, or by you
    if (before?.muted_by_facilitator && !after.muted_by_facilitator) this.prompt = "allowed";
    if (before?.video && !after.video && !after.away) this.camWanted = false;
    this.apply();
  }

  /** Enable or disable the local tracks to match, then redraw the buttons. */
  apply() {
    const you = this.you;
    const audio = this.mesh.localAudioTrack();
    const video = this.mesh.localVideoTrack();
    if (audio) audio.enabled = Boolean(this.micWanted && you?.audio && you.can_speak);
    if (video) video.enabled = Boolean(this.camWanted && you?.video && !you.away);
    this.render();
  }

  render() {
    const you = this.you;
    if (!you) return;
    const micButton = byId("toggle-mic");
    const micOn = Boolean(this.micWanted && you.audio);
    setPressed(micButton, micOn);
    micButton.dataset.blocked = String(!you.can_speak);
    this.renderPrompt(micOn);
    const reason = micReason(this.state);
    const reasonBox = byId("mic-reason");
    if (reasonBox.textContent !== reason) reasonBox.textContent = reason;
    reasonBox.hidden = !reason;
    byId("away-note").hidden = !you.away;
    setPressed(byId("toggle-camera"), Boolean(this.camWanted && you.video && !you.away));
    byId("toggle-camera").dataset.blocked = String(Boolean(you.video_muted_by_facilitator) || !this.hasCamera);
    setPressed(byId("toggle-hand"), you.hand !== null);
    setPressed(byId("away-button"), you.away);
    byId("pass-button").hidden = this.state.floor.holder !== you.id;
  }

  /** "You have the floor. Switch your microphone on..." next to the button, while it applies.
   * @param {boolean} micOn */
  renderPrompt(micOn) {
    const you = this.you;
    if (!you) return;
    const hasFloor = this.state.floor.holder === you.id;
    if (hasFloor && !this.hadFloor) this.prompt = "floor";
    if (!hasFloor && this.prompt === "floor") this.prompt = null;
    this.hadFloor = hasFloor;
    if (micOn || you.muted_by_facilitator) this.prompt = null;
    // The floor and `can_speak` may arrive in two events: the prompt waits for `can_speak`.
    const shown = this.prompt !== null && you.can_speak && this.hasMic;
    const text = !shown ? "" : this.prompt === "floor"
      ? "You have the floor. Switch your microphone on when you are ready."
      : "A facilitator allowed you to speak again. Switch your microphone on when you are ready.";
    const box = byId("mic-prompt");
    if (box.textContent !== text) box.textContent = text;
    box.hidden = !shown;
    byId("toggle-mic").dataset.prompt = String(shown);
  }

  async toggleMic() {
    const you = this.you;
    if (!you) return;
    if (this.micWanted && you.audio) {
      this.micWanted = false;
      this.apply();
      await this.sendMedia();
      return;
    }
    if (!this.hasMic) { toast("No microphone is available, so you can listen and chat."); return; }
    this.micWanted = true;
    this.render();
    const ok = await this.sendMedia();
    if (!ok) this.micWanted = false;
    this.apply();
  }

  async toggleCamera() {
    const you = this.you;
    if (!you) return;
    if (this.camWanted && you.video) {
      this.camWanted = false;
      this.apply();
      await this.sendMedia();
      return;
    }
    if (!this.hasCamera) { toast("No camera is available. You can still speak, listen and chat."); return; }
    if (you.away) { toast("You are stepped away. Press Step away again to come back first."); return; }
    this.camWanted = true;
    const ok = await this.sendMedia();
    if (!ok) this.camWanted = false;
    this.apply();
  }

  async toggleAway() {
    const you = this.you;
    if (!you) return;
    const away = !you.away;
    if (await this.act(() => this.client.away(away)) && !away) await this.sendMediaIfNeeded();
    this.apply();
  }

  async sendMediaIfNeeded() {
    const you = this.you;
    if (!you) return;
    if (this.audioClaim() !== you.audio || this.videoClaim() !== you.video) await this.sendMedia();
  }

  /** Tell the server what you send now. @returns {Promise<boolean>} accepted */
  async sendMedia() {
    const media = { audio: this.audioClaim() || (this.micWanted && this.hasMic), video: this.videoClaim() };
    const ok = await this.act(() => this.client.media(media), { media: true });
    return ok;
  }

  /** Run one client command; say so kindly when it is refused.
   * @param {() => Promise<void>} command @param {{media?: boolean}} [options] it is `media` */
  async act(command, { media = false } = {}) {
    try {
      await command();
      return true;
    } catch (err) {
      const error = /** @type {Error & {code?: string}} */ (err);
      if (error.code === ErrorCode.NOT_ALLOWED_TO_SPEAK) toast(micReason(this.state) || error.message, "warning");
      else if (error.code === ErrorCode.FORBIDDEN && media) toast("A facilitator turned your camera off for now.", "warning");
      else if (error.code === "disconnected") toast("You are reconnecting. Try again in a moment.", "warning");
      else toast(capitalize(error.message), "warning");
      this.render();
      return false;
    }
  }
}

/** @param {string} text */
function capitalize(text) {
  return text ? text[0].toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".") : "";
}

// @ts-check
/** The join screen: name, camera and microphone preview with a level meter and device choice,
 * a connection check (the server round trip here; "Test my connection", an echo through the server,
 * is `ConnectionTest` in connection-test.js), the group agreement, and the Join button. */
import { LevelMeter, listDevices, openLocalMedia, openTrack } from "../media.js";
import { ConnectionTest } from "./connection-test.js";
import { byId, el, setPressed } from "./dom.js";
import { pageMedia, renderMediaPath } from "./media-path.js";

/** @typedef {import("../check.js").EchoCheck} EchoCheck */

/** @typedef {{name: string, wantMic: boolean, wantCamera: boolean}} JoinChoice */

export class JoinScreen {
  /**
   * @param {{initialName: string, role: string | undefined, token: string,
   *   onJoin: (choice: JoinChoice) => void, onCheck?: (check: EchoCheck) => void}} options
   */
  constructor(options) {
    this.onJoin = options.onJoin;
    this.wantMic = false;
    this.wantCamera = true;
    /** @type {import("../media.js").LocalMedia} */
    this.media = { stream: new MediaStream(), audioError: null, videoError: null };
    /** @type {LevelMeter | null} */
    this.meter = null;
    this.form = /** @type {HTMLFormElement} */ (byId("join-form"));
    this.nameInput = /** @type {HTMLInputElement} */ (byId("join-name"));
    this.agree = /** @type {HTMLInputElement} */ (byId("join-agree"));
    this.button = /** @type {HTMLButtonElement} */ (byId("join-button"));
    this.nameInput.value = options.initialName;
    byId("role-note").hidden = options.role !== "facilitator";
    renderMediaPath(byId("join-media"), pageMedia(byId("app")), options.role === "facilitator");
    this.ready = this.openMedia();
    this.test = new ConnectionTest({
      token: options.token, media: () => this.media.stream, ready: this.ready, onCheck: options.onCheck,
    });
    this.bind();
    this.checkConnection();
  }

  bind() {
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    const cameraToggle = byId("join-camera-toggle");
    cameraToggle.addEventListener("click", () => {
      this.wantCamera = !this.wantCamera;
      setPressed(cameraToggle, this.wantCamera, this.wantCamera ? "Camera on" : "Camera off");
      this.showPreviewState();
    });
    const micToggle = byId("join-mic-toggle");
    micToggle.addEventListener("click", () => {
      this.wantMic = !this.wantMic;
      setPressed(micToggle, this.wantMic, this.wantMic ? "Microphone on when I join" : "Microphone off when I join");
    });
    byId("mic-select").addEventListener("change", (e) => this.switchDevice("audio", /** @type {HTMLSelectElement} */ (e.target).value));
    byId("camera-select").addEventListener("change", (e) => this.switchDevice("video", /** @type {HTMLSelectElement} */ (e.target).value));
    navigator.mediaDevices?.addEventListener?.("devicechange", () => { this.fillDevices(); });
  }

  async openMedia() {
    const status = byId("media-status");
    status.textContent = "Opening your camera and microphone…";
    this.media = await openLocalMedia();
    const { stream, audioError, videoError } = this.media;
    const preview = /** @type {HTMLVideoElement} */ (byId("preview"));
    preview.srcObject = stream;
    preview.play().catch(() => {});
    this.startMeter();
    const notes = [];
    if (audioError) notes.push(`No microphone: ${audioError}.`);
    if (videoError) notes.push(`No camera: ${videoError}.`);
    status.textContent = notes.length ? `${notes.join(" ")} You can still join, listen and chat.` : "";
    if (videoError) this.wantCamera = false;
    this.showPreviewState();
    await this.fillDevices();
  }

  startMeter() {
    this.meter?.stop();
    const meter = /** @type {HTMLMeterElement} */ (byId("level-meter"));
    this.meter = new LevelMeter(this.media.stream, (level) => {
      meter.value = level;
      meter.setAttribute("aria-valuenow", level.toFixed(2));
    });
  }

  showPreviewState() {
    const hasVideo = this.media.stream.getVideoTracks().length > 0;
    const on = this.wantCamera && hasVideo;
    for (const track of this.media.stream.getVideoTracks()) track.enabled = on;
    byId("preview-off").hidden = on;
    byId("preview-off").textContent = hasVideo ? "Camera off" : "No camera";
    const toggle = byId("join-camera-toggle");
    setPressed(toggle, on, on ? "Camera on" : "Camera off");
    /** @type {HTMLButtonElement} */ (toggle).disabled = !hasVideo;
  }

  async fillDevices() {
    const { mics, cameras } = await listDevices();
    const current = {
      audio: this.media.stream.getAudioTracks()[0]?.getSettings().deviceId,
      video: this.media.stream.getVideoTracks()[0]?.getSettings().deviceId,
    };
    /** @param {HTMLSelectElement} select @param {MediaDeviceInfo[]} list @param {string | undefined} chosen @param {string} noun */
    const fill = (select, list, chosen, noun) => {
      select.replaceChildren(...list.map((d, i) => el("option", {
        text: d.label || `${noun} ${i + 1}`, attrs: { value: d.deviceId },
      })));
      if (chosen) select.value = chosen;
      select.disabled = list.length === 0;
      if (list.length === 0) select.append(el("option", { text: `No ${noun.toLowerCase()} found` }));
    };
    fill(/** @type {HTMLSelectElement} */ (byId("mic-select")), mics, current.audio, "Microphone");
    fill(/** @type {HTMLSelectElement} */ (byId("camera-select")), cameras, current.video, "Camera");
  }

  /** @param {"audio" | "video"} kind @param {string} deviceId */
  async switchDevice(kind, deviceId) {
    try {
      const track = await openTrack(kind, deviceId);
      const stream = this.media.stream;
      for (const old of kind === "audio" ? stream.getAudioTracks() : stream.getVideoTracks()) {
        stream.removeTrack(old);
        old.stop();
      }
      stream.addTrack(track);
      this.test.replaceTrack(track);
      if (kind === "audio") { this.media.audioError = null; this.startMeter(); }
      else { this.media.videoError = null; this.showPreviewState(); }
    } catch {
      byId("media-status").textContent = "That device could not be opened. Try another one.";
    }
  }

  async checkConnection() {
    const text = byId("connection-text");
    const box = byId("connection-check");
    if (typeof RTCPeerConnection === "undefined") {
      text.textContent = "This browser cannot make video calls. Try a current Firefox, Chrome, Edge or Safari.";
      box.dataset.state = "bad";
      return;
    }
    const started = performance.now();
    try {
      const response = await fetch("/healthz", { cache: "no-store" });
      if (!response.ok) throw new Error(String(response.status));
      const ms = Math.round(performance.now() - started);
      text.textContent = `Connection to the server: ${ms < 300 ? "good" : "slow"} (${ms} ms).`;
      box.dataset.state = ms < 300 ? "good" : "slow";
    } catch {
      text.textContent = "The server cannot be reached right now. Check your internet connection.";
      box.dataset.state = "bad";
    }
  }

  submit() {
    const name = this.nameInput.value.trim().replace(/\s+/g, " ");
    const error = byId("join-error");
    if (!name) {
      error.textContent = "Please enter a name: a first name or a pseudonym is fine.";
      this.nameInput.focus();
      return;
    }
    if (!this.agree.checked) {
      error.textContent = "Please read the group agreement and tick the box to agree.";
      this.agree.focus();
      return;
    }
    error.textContent = "";
    this.test.stop();
    this.onJoin({ name, wantMic: this.wantMic, wantCamera: this.wantCamera });
  }

  /** @param {boolean} busy */
  setBusy(busy) {
    this.button.disabled = busy;
    this.button.textContent = busy ? "Joining…" : "Join the group";
  }

  /** @param {string} text */
  showError(text) {
    byId("join-error").textContent = text;
    this.setBusy(false);
  }

  stop() {
    this.meter?.stop();
    this.meter = null;
    this.test.stop();
  }
}

/** The name a personal link carries (its `name` claim: the pseudonym the facilitator added), to
 * fill in the name field; the person may still change it. Empty for any other link.
 * @param {{name?: unknown} | null} claims */
export function nameFromLink(claims) {
  return typeof claims?.name === "string" ? claims.name : "";
}

/** "Our group between sessions" on the join screen, for a personal link only (a token with a
 * `sub`): the journey page opens with the same token in its fragment, as from the lobby.
 * @param {string} roomId @param {string} token @param {{sub?: unknown} | null} claims */
export function offerJourneyLink(roomId, token, claims) {
  const box = document.getElementById("join-journey");
  const link = document.getElementById("join-journey-link");
  if (!box || !(link instanceof HTMLAnchorElement)) return;
  const personal = typeof claims?.sub === "string" && claims.sub !== "";
  if (personal) link.href = `/r/${encodeURIComponent(roomId)}/journey#k=${encodeURIComponent(token)}`;
  box.hidden = !personal;
}

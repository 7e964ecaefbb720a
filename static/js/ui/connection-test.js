// @ts-check
/** "Test my connection" on the join screen: an echo of the camera and microphone through the
 * server (`EchoCheck`), with what comes back, the round-trip time and the path. */
import { CheckError, EchoCheck } from "../check.js";
import { LevelMeter } from "../media.js";
import { byId, setPressed } from "./dom.js";

const CHECK_MS = 15_000; // the page ends its test after this long (the server allows more)
const CHECK_POLL_MS = 500;

const CHECK_TEXT = {
  works: "Your connection works",
  busy: "The server is busy: try again in a moment",
  unauthorized: "This link is not valid",
  noMedia: "No media came back: your network may block WebRTC",
  unavailable: "The connection test is not available right now",
  unreachable: "The server cannot be reached right now. Check your internet connection.",
};

/**
 * "Test my connection": runs one `EchoCheck` for up to 15 s and shows what comes back, the
 * round-trip time and the path. The results are in a polite live region; the path and the round
 * trip are each written once known (while the test runs) and again at the end, not on every poll.
 */
export class ConnectionTest {
  /**
   * @param {{token: string, media: () => MediaStream, ready: Promise<void>,
   *   onCheck?: (check: EchoCheck) => void}} options
   */
  constructor(options) {
    this.options = options;
    /** @type {EchoCheck | null} */
    this.check = null;
    /** @type {LevelMeter | null} */
    this.meter = null;
    this.timers = /** @type {ReturnType<typeof setTimeout>[]} */ ([]);
    this.worked = false;
    this.button = /** @type {HTMLButtonElement} */ (byId("check-button"));
    this.video = /** @type {HTMLVideoElement} */ (byId("check-video"));
    this.panel = byId("check-panel");
    this.status = byId("check-status");
    this.sound = byId("check-sound");
    this.button.addEventListener("click", () => { if (this.check) this.finish(); else this.run(); });
    this.sound.addEventListener("click", () => {
      this.video.muted = !this.video.muted;
      setPressed(this.sound, !this.video.muted, this.video.muted ? "Hear myself" : "Stop hearing myself");
      if (!this.video.muted) this.video.play().catch(() => {});
    });
    addEventListener("pagehide", () => this.stop());
  }

  async run() {
    this.button.disabled = true; // until the preview's media is open (and no double start)
    await this.options.ready;
    this.button.disabled = false;
    this.worked = false;
    this.show("", "");
    this.say("Testing your connection…", "testing");
    this.button.textContent = "Stop the test";
    const check = new EchoCheck({
      token: this.options.token, stream: this.options.media(),
      onStream: (stream) => this.showEcho(stream),
    });
    this.check = check;
    this.options.onCheck?.(check);
    this.timers.push(setTimeout(() => { if (this.check === check) this.finish(); }, CHECK_MS));
    try {
      await check.start();
    } catch (err) {
      if (this.check !== check) return;
      const kind = err instanceof CheckError ? err.kind : "failed";
      this.finish(kind === "failed" ? CHECK_TEXT.noMedia : CHECK_TEXT[kind], "bad");
      return;
    }
    if (this.check !== check) return;
    this.poll(check);
  }

  /** @param {EchoCheck} check */
  poll(check) {
    const tick = async () => {
      if (this.check !== check) return;
      const stats = await check.stats();
      if (this.check !== check) return;
      const back = (check.sending.video && stats.framesDecoded > 0)
        || (!check.sending.video && check.sending.audio && stats.audioPackets > 0)
        || (!check.sending.video && !check.sending.audio && stats.connectionState === "connected");
      if (back && !this.worked) {
        this.worked = true;
        this.say(check.sending.video || check.sending.audio ? CHECK_TEXT.works
          : `${CHECK_TEXT.works} (nothing to send: no camera or microphone)`, "good");
      }
      // Each is shown as soon as it is known (the path usually first, the round trip once measured).
      if (this.worked && stats.path && !byId("check-path").textContent) this.showPath(stats);
      if (this.worked && stats.rtt !== null && !byId("check-rtt").textContent) this.showRtt(stats);
      if (stats.connectionState === "failed") { this.finish(); return; }
      this.timers.push(setTimeout(tick, CHECK_POLL_MS));
    };
    tick();
  }

  /** @param {MediaStream} stream */
  showEcho(stream) {
    this.panel.hidden = false;
    if (this.video.srcObject !== stream) this.video.srcObject = stream;
    this.video.play().catch(() => {});
    if (stream.getAudioTracks().length && !this.meter) {
      const meter = /** @type {HTMLMeterElement} */ (byId("check-level"));
      this.meter = new LevelMeter(stream, (level) => {
        meter.value = level;
        meter.setAttribute("aria-valuenow", level.toFixed(2));
      });
    }
  }

  /** @param {import("../check.js").CheckStats} stats */
  results(stats) {
    this.show(stats.rtt === null ? "" : `${stats.rtt} ms`, pathText(stats));
  }

  /** @param {import("../check.js").CheckStats} stats */
  showPath(stats) {
    byId("check-path").textContent = pathText(stats);
    byId("check-path-row").hidden = !pathText(stats);
  }

  /** @param {import("../check.js").CheckStats} stats */
  showRtt(stats) {
    byId("check-rtt").textContent = stats.rtt === null ? "" : `${stats.rtt} ms`;
    byId("check-rtt-row").hidden = stats.rtt === null;
  }

  /** @param {string} rtt @param {string} path */
  show(rtt, path) {
    byId("check-rtt").textContent = rtt;
    byId("check-path").textContent = path;
    byId("check-rtt-row").hidden = !rtt;
    byId("check-path-row").hidden = !path;
  }

  /** @param {string} text @param {string} state */
  say(text, state) {
    this.status.textContent = text;
    byId("check-results").dataset.state = state;
  }

  /** End the test and show the outcome (`text`, or what the connection showed). @param {string} [text] @param {string} [state] */
  async finish(text, state) {
    const check = this.check;
    if (!check) return;
    this.check = null;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    const stats = text ? null : await check.stats().catch(() => null);
    check.stop();
    this.stopMedia();
    this.button.textContent = "Test my connection";
    if (stats && this.worked) this.results(stats);
    if (text) this.say(text, state ?? "bad");
    else if (!this.worked) this.say(CHECK_TEXT.noMedia, "bad");
  }

  stopMedia() {
    this.meter?.stop();
    this.meter = null;
    this.video.pause();
    this.video.srcObject = null;
    this.video.muted = true;
    setPressed(this.sound, false, "Hear myself");
    this.panel.hidden = true;
  }

  /** @param {MediaStreamTrack} track */
  replaceTrack(track) {
    this.check?.replaceTrack(track);
  }

  /** Stop at once (Join pressed, page closing): no outcome shown. */
  stop() {
    const check = this.check;
    if (!check) return;
    this.check = null;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    check.stop();
    this.stopMedia();
    this.button.textContent = "Test my connection";
    if (!this.worked) this.say("", "");
  }
}

/** What the path is called on the page. @param {import("../check.js").CheckStats} stats */
function pathText(stats) {
  return stats.path === "relayed" ? "relayed through the TURN server" : stats.path === "direct" ? "direct" : "";
}

// @ts-check
/** Local media: getUserMedia with device choice, device lists, a microphone level meter, and a
 * short soft tone (WebAudio, no audio files). No DOM beyond what the browser media APIs need. */

/**
 * @typedef {object} LocalMedia
 * @property {MediaStream} stream whatever could be opened (maybe no tracks at all)
 * @property {string | null} audioError why there is no microphone, if there is none
 * @property {string | null} videoError why there is no camera, if there is none
 */

/** @param {unknown} err */
function explain(err) {
  const name = err instanceof Error ? err.name : "";
  if (name === "NotAllowedError") return "permission was not given";
  if (name === "NotFoundError" || name === "OverconstrainedError") return "none was found";
  if (name === "NotReadableError") return "it is in use by another program";
  return "it could not be opened";
}

/** @param {string | undefined} deviceId @returns {MediaTrackConstraints | boolean} */
function pick(deviceId) {
  return deviceId ? { deviceId: { exact: deviceId } } : true;
}

/**
 * Open the microphone and camera; when one of them fails, keep the other.
 * @param {{audioDevice?: string, videoDevice?: string}} [choice]
 * @returns {Promise<LocalMedia>}
 */
export async function openLocalMedia(choice = {}) {
  const audio = pick(choice.audioDevice);
  /** @type {MediaTrackConstraints} */
  const video = { width: { ideal: 640 }, height: { ideal: 480 } };
  if (choice.videoDevice) video.deviceId = { exact: choice.videoDevice };
  if (!navigator.mediaDevices?.getUserMedia) {
    const reason = "this browser cannot use a camera here";
    return { stream: new MediaStream(), audioError: reason, videoError: reason };
  }
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ audio, video }), audioError: null, videoError: null };
  } catch (both) {
    const stream = new MediaStream();
    let audioError = null;
    let videoError = null;
    try { (await navigator.mediaDevices.getUserMedia({ audio })).getTracks().forEach((t) => stream.addTrack(t)); }
    catch (err) { audioError = explain(err); }
    try { (await navigator.mediaDevices.getUserMedia({ video })).getTracks().forEach((t) => stream.addTrack(t)); }
    catch (err) { videoError = explain(err); }
    if (audioError && videoError) audioError = videoError = explain(both);
    return { stream, audioError, videoError };
  }
}

/** Open one device again (a new choice). @param {"audio" | "video"} kind @param {string} deviceId */
export async function openTrack(kind, deviceId) {
  const constraints = kind === "audio" ? { audio: pick(deviceId) } : { video: pick(deviceId) };
  const stream = await navigator.mediaDevices.getUserMedia(constraints);
  return stream.getTracks()[0];
}

/** @returns {Promise<{mics: MediaDeviceInfo[], cameras: MediaDeviceInfo[]}>} */
export async function listDevices() {
  if (!navigator.mediaDevices?.enumerateDevices) return { mics: [], cameras: [] };
  const devices = await navigator.mediaDevices.enumerateDevices();
  return {
    mics: devices.filter((d) => d.kind === "audioinput"),
    cameras: devices.filter((d) => d.kind === "videoinput"),
  };
}

/** @type {AudioContext | null} */
let sharedContext = null;

/** One AudioContext for the page, resumed on the first click or key (autoplay rules). */
export function audioContext() {
  if (!sharedContext) {
    sharedContext = new AudioContext();
    const resume = () => { sharedContext?.resume().catch(() => {}); };
    addEventListener("pointerdown", resume, { capture: true });
    addEventListener("keydown", resume, { capture: true });
  }
  return sharedContext;
}

/** Microphone level, 0..1, reported about 15 times a second. */
export class LevelMeter {
  /** @param {MediaStream} stream @param {(level: number) => void} onLevel */
  constructor(stream, onLevel) {
    this.onLevel = onLevel;
    this.timer = /** @type {ReturnType<typeof setInterval> | null} */ (null);
    this.source = /** @type {MediaStreamAudioSourceNode | null} */ (null);
    if (stream.getAudioTracks().length === 0) return;
    const ctx = audioContext();
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 512;
    this.source = ctx.createMediaStreamSource(stream);
    this.source.connect(this.analyser);
    const samples = new Float32Array(this.analyser.fftSize);
    let shown = 0;
    this.timer = setInterval(() => {
      if (!this.analyser) return;
      this.analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      const level = Math.min(1, Math.sqrt(sum / samples.length) * 4);
      // Rise at once, fall slowly: a steadier meter that is easy to read.
      shown = Math.max(level, shown * 0.85);
      this.onLevel(shown < 0.005 ? 0 : shown);
    }, 66);
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.source?.disconnect();
    this.timer = null;
  }
}

/** A short, soft two-note chime (about half a second, quiet). */
export function softTone() {
  try {
    const ctx = audioContext();
    if (ctx.state !== "running") return;
    const start = ctx.currentTime + 0.02;
    [523.25, 659.25].forEach((frequency, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.value = frequency;
      const t = start + i * 0.18;
      gain.gain.setValueAtTime(0, t);
      gain.gain.linearRampToValueAtTime(0.08, t + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.35);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + 0.4);
    });
  } catch {
    /* sound is a nicety: never fail because of it */
  }
}

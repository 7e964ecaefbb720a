// @ts-check
/**
 * What the room page needs from a media path, mesh (rtc.js) or SFU (sfu.js), and the part both
 * share: playing each remote participant in the page's <video> elements, muted while they may
 * not speak (receivers keep enforcing the floor in both modes).
 */

/**
 * The one shape the room page (ui/room.js, ui/tiles.js, ui/controls.js), main.js and the test
 * hook `window.hearth.mesh` use, whichever path media takes.
 * @typedef {object} MediaPath
 * @property {"mesh" | "sfu"} path
 * @property {MediaStream | null} localStream
 * @property {() => void} onAutoplayBlocked called when the browser refuses to play sound before a click
 * @property {(id: string | null) => void} onSpeaking the active speaker changed (null: nobody)
 * @property {(selfId: string, iceServers: RTCIceServer[], policy: RTCIceTransportPolicy) => void} reset
 * @property {(stream: MediaStream) => void} setLocalStream
 * @property {() => MediaStreamTrack | null} localAudioTrack
 * @property {() => MediaStreamTrack | null} localVideoTrack
 * @property {(participants: Iterable<{id: string, connected: boolean}>) => void} reconcile
 * @property {(id: string, element: HTMLMediaElement) => void} bindElement
 * @property {(id: string) => void} unbindElement
 * @property {(id: string, canSpeak: boolean) => void} setAudible
 * @property {(id: string) => void} refreshElement
 * @property {() => void} resumePlayback
 * @property {(holdsFloor: boolean, participantCount: number) => void} setQuality
 * @property {() => Promise<Record<string, import("./rtcstats.js").InboundStats>>} stats
 * @property {() => Promise<import("./rtcstats.js").OutboundStats>} outboundStats
 * @property {() => void} closeAll
 */

/** Remote streams and the elements that play them, with receiver-side muting. */
export class RemotePlayback {
  constructor() {
    /** @type {Map<string, MediaStream>} latest remote stream per participant */
    this.remoteStreams = new Map();
    /** @type {Map<string, HTMLMediaElement>} playback element per participant */
    this.elements = new Map();
    /** @type {Map<string, boolean>} may this participant be heard (can_speak) */
    this.audible = new Map();
    /** called when the browser refuses to play sound before a click (the page offers a button) */
    this.onAutoplayBlocked = () => {};
    /** @type {(id: string | null) => void} the active speaker changed */
    this.onSpeaking = () => {};
  }

  /** Register the <video>/<audio> that plays a participant. @param {string} id @param {HTMLMediaElement} element */
  bindElement(id, element) {
    this.elements.set(id, element);
    this.refreshElement(id);
  }

  /** @param {string} id */
  unbindElement(id) { this.elements.delete(id); }

  /** Floor enforcement at this receiver: anyone who may not speak is not played, whatever
   * their browser sends. @param {string} id @param {boolean} canSpeak */
  setAudible(id, canSpeak) {
    this.audible.set(id, canSpeak);
    const element = this.elements.get(id);
    if (element && element.muted !== !canSpeak) element.muted = !canSpeak;
  }

  /** @param {string} id */
  refreshElement(id) {
    const element = this.elements.get(id);
    if (!element) return;
    element.muted = !(this.audible.get(id) ?? false);
    const stream = this.remoteStreams.get(id) ?? null;
    if (element.srcObject === stream) return;
    element.srcObject = stream;
    if (!stream) return;
    element.play().catch((err) => {
      if (err instanceof DOMException && err.name === "NotAllowedError") this.onAutoplayBlocked();
    });
  }

  /** Try playing every remote element again (after a click). */
  resumePlayback() {
    for (const element of this.elements.values()) element.play().catch(() => {});
  }
}

// @ts-check
/** Video tiles: one <article class="tile" data-participant-id> per admitted participant, the
 * self view first (muted, mirrored). Remote <video> elements are registered with the media path
 * (mesh or SFU), which sets their stream and mutes anyone who may not speak. A remote tile has
 * "See larger" (pins that person: a bigger tile, and the high layer in SFU mode); the active
 * speaker's tile has a ring and the word "Speaking" (in its label too, never announced). */
import { el, initials, syncList } from "./dom.js";
import { icon } from "./icons.js";
import { showRole } from "./roles.js";

/** @typedef {import("../state.js").Participant} Participant */
/** @typedef {import("../state.js").RoomState} RoomState */

export class Tiles {
  /** @param {HTMLElement} container @param {import("../playback.js").MediaPath} mesh
   * @param {(id: string) => void} onPin "See larger" pressed on someone's tile */
  constructor(container, mesh, onPin) {
    this.container = container;
    this.mesh = mesh;
    this.onPin = onPin;
    /** @type {MediaStream | null} */
    this.localStream = null;
    /** @type {string | null} */
    this.pinned = null;
    /** @type {string | null} */
    this.speaking = null;
  }

  /** Play the remote tiles through another media path. @param {import("../playback.js").MediaPath} media */
  setMedia(media) {
    if (media === this.mesh) return;
    this.mesh = media;
    for (const video of this.container.querySelectorAll("video[data-participant-id]")) {
      const id = /** @type {HTMLVideoElement} */ (video).dataset.participantId;
      if (id) media.bindElement(id, /** @type {HTMLVideoElement} */ (video));
    }
  }

  /** @param {MediaStream} stream */
  setLocalStream(stream) {
    this.localStream = stream;
    const video = this.container.querySelector("article.self video");
    if (video instanceof HTMLVideoElement && video.srcObject !== stream) video.srcObject = stream;
  }

  /** @param {RoomState} state */
  render(state) {
    const you = state.you;
    if (!you) return;
    const people = [...state.participants.values()];
    const ordered = [...people.filter((p) => p.id === you.id), ...people.filter((p) => p.id !== you.id)];
    const before = new Set(Array.from(this.container.children).map((c) => /** @type {HTMLElement} */ (c).dataset.key));
    syncList(this.container, ordered, (p) => p.id,
      (p) => this.create(p, p.id === you.id),
      (node, p) => this.update(node, p, state));
    for (const id of before) {
      if (id && !state.participants.has(id)) this.mesh.unbindElement(id);
    }
    this.container.dataset.count = String(Math.min(ordered.length, 9));
  }

  /** @param {Participant} p @param {boolean} self */
  create(p, self) {
    const video = el("video", { attrs: { autoplay: "", playsinline: "" } });
    video.playsInline = true;
    video.autoplay = true;
    const tile = el("article", { className: self ? "tile self" : "tile", data: { participantId: p.id } },
      video,
      el("div", { className: "tile-avatar", attrs: { "aria-hidden": "true" } }, el("span", { className: "avatar-letters" })),
      el("p", { className: "tile-overlay" }),
      el("div", { className: "tile-badges" }),
      ...(self ? [] : [el("button", { className: "tile-pin", text: "See larger",
        attrs: { type: "button", "aria-pressed": "false" } })]),
      el("div", { className: "tile-footer" },
        el("span", { className: "tile-mic" }),
        el("span", { className: "tile-name" }),
        el("span", { className: "tile-role" }),
        el("span", { className: "tile-speaking", text: "Speaking", attrs: { "aria-hidden": "true" } })));
    if (self) {
      video.muted = true;
      video.classList.add("mirrored");
      if (this.localStream) video.srcObject = this.localStream;
      video.play().catch(() => {});
    } else {
      video.dataset.participantId = p.id;
      this.mesh.bindElement(p.id, video);
      tile.querySelector(".tile-pin")?.addEventListener("click", () => this.onPin(p.id));
    }
    return tile;
  }

  /** @param {HTMLElement} tile @param {Participant} p @param {RoomState} state */
  update(tile, p, state) {
    const self = p.id === state.you?.id;
    const holder = state.floor.holder === p.id;
    const cameraOff = !p.video || p.away;
    tile.classList.toggle("has-floor", holder);
    tile.classList.toggle("camera-off", cameraOff);
    tile.classList.toggle("away", p.away);
    tile.classList.toggle("reconnecting", !p.connected);
    tile.classList.toggle("hand-up", p.hand !== null);
    tile.classList.toggle("time-up", holder && state.timeUpFor === p.id);
    // Only someone who can be heard is marked: Janus says nothing more about a person it stopped
    // forwarding (muted, the floor moved on), so their last "talking" would otherwise stay.
    const speaking = this.speaking === p.id && p.audio && p.can_speak && !p.away;
    tile.classList.toggle("speaking", speaking);
    const pinned = this.pinned === p.id;
    tile.classList.toggle("pinned", pinned);
    const name = self ? `${p.name} (you)` : p.name;
    const pin = tile.querySelector(".tile-pin");
    if (pin) {
      pin.setAttribute("aria-pressed", String(pinned));
      const label = `See larger: ${p.name}`;
      if (pin.getAttribute("aria-label") !== label) pin.setAttribute("aria-label", label);
    }
    setText(tile, ".tile-name", name);
    showRole(/** @type {HTMLElement} */ (tile.querySelector(".tile-role")), p.role);
    setText(tile, ".avatar-letters", initials(p.name));
    setText(tile, ".tile-overlay", !p.connected ? "Reconnecting…" : p.away ? "Stepped away" : "");

    const micOn = p.audio && p.can_speak;
    const mic = /** @type {HTMLElement} */ (tile.querySelector(".tile-mic"));
    const micState = micOn ? "on" : p.muted_by_facilitator ? "muted" : "off";
    if (mic.dataset.state !== micState) {
      mic.dataset.state = micState;
      mic.replaceChildren(icon(micOn ? "mic" : "micOff"));
    }

    const badges = [];
    if (holder) badges.push(["floor", state.timeUpFor === p.id ? "Time is up" : "Has the floor"]);
    if (p.hand !== null) badges.push(["hand", "Hand raised"]);
    if (p.muted_by_facilitator) badges.push(["muted", "Muted by a facilitator"]);
    const box = /** @type {HTMLElement} */ (tile.querySelector(".tile-badges"));
    const signature = badges.map((b) => b.join(":")).join("|");
    if (box.dataset.signature !== signature) {
      box.dataset.signature = signature;
      box.replaceChildren(...badges.map(([kind, text]) => el("span", { className: `badge badge-${kind}` },
        ...(kind === "hand" ? [icon("hand")] : []), text)));
    }

    const words = [name, p.role === "facilitator" ? "facilitator" : "", speaking ? "speaking" : "",
      micOn ? "microphone on" : p.muted_by_facilitator ? "muted by a facilitator" : "microphone off",
      cameraOff ? "camera off" : "", ...badges.filter(([k]) => k !== "muted").map(([, t]) => t.toLowerCase()),
      p.away ? "stepped away" : "", p.connected ? "" : "reconnecting"].filter(Boolean);
    tile.setAttribute("aria-label", words.join(", "));
  }

  /** A reaction floats over the sender's tile for a moment. @param {string} from @param {string} emoji */
  react(from, emoji) {
    const tile = this.container.querySelector(`article.tile[data-participant-id="${CSS.escape(from)}"]`);
    if (!tile) return;
    const bubble = el("span", { className: "reaction-bubble", text: emoji, attrs: { "aria-hidden": "true" } });
    tile.append(bubble);
    setTimeout(() => bubble.remove(), 2600);
  }
}

/** @param {HTMLElement} root @param {string} selector @param {string} text */
function setText(root, selector, text) {
  const node = root.querySelector(selector);
  if (node && node.textContent !== text) node.textContent = text;
}

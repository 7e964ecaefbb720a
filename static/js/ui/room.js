// @ts-check
/** The room screen: wires the client's events to the media path (mesh or SFU, as the welcome
 * says) and to every part of the page. */
import { ErrorCode } from "../codes.js";
import { Mesh } from "../rtc.js";
import { Sfu } from "../sfu.js";
import { can } from "../state.js";
import { toast } from "./announce.js";
import { renderBalance } from "./balance.js";
import { FloorBanner } from "./banner.js";
import { Chat } from "./chat.js";
import { CheckinSetting } from "./checkin-setting.js";
import { Console } from "./console.js";
import { Controls } from "./controls.js";
import { byId } from "./dom.js";
import { FacilitatorLink } from "./facilitator-link.js";
import { HelpPanel } from "./help.js";
import { HelpAlerts, wireAskerNotice } from "./help-alerts.js";
import { InvitePanel } from "./invite.js";
import { JourneyPanel } from "./journey-panel.js";
import { applyLimits } from "./limits.js";
import { renderMediaPath } from "./media-path.js";
import { MediaSetting } from "./media-setting.js";
import { titleWithLobby, wireNotices } from "./notices.js";
import { People } from "./people.js";
import { Roster } from "./roster.js";
import { ScheduleEditor } from "./schedule-editor.js";
import { wireRunSheet } from "./runsheet-editor.js";
import { showScreen } from "./screens.js";
import { Tiles } from "./tiles.js";

export class RoomView {
  /**
   * @param {{client: import("../protocol.js").HearthClient,
   *   roomId: string, token: string, wantMic: boolean, wantCamera: boolean, onLeave: () => void,
   *   onNewToken: (token: string) => void, onMedia: (media: Mesh | Sfu) => void}} options
   */
  constructor(options) {
    const { client } = options;
    this.client = client;
    this.onMedia = options.onMedia;
    /** @type {Mesh | Sfu} the media path of this session (a mesh until a welcome says otherwise) */
    this.mesh = this.createMedia("mesh");
    /** @type {string | null} whom this person asked to see larger */
    this.pin = null;
    /** @type {string | null} the active speaker */
    this.speaking = null;
    const mesh = this.mesh;
    this.tiles = new Tiles(byId("tiles"), mesh, (id) => this.togglePin(id));
    this.banner = new FloorBanner(byId("floor-banner"), () => client.state);
    this.controls = new Controls({ client, mesh, wantMic: options.wantMic, wantCamera: options.wantCamera,
      onLeave: options.onLeave });
    this.chat = new Chat(client);
    this.invite = new InvitePanel(options.roomId, options.token);
    this.people = new People(client, () => this.invite.offerRotation());
    this.console = new Console(client);
    this.mediaSetting = new MediaSetting(options.roomId, options.token, () => client.state);
    this.schedule = new ScheduleEditor(options.roomId, options.token, () => client.state);
    this.help = new HelpPanel(client);
    this.roster = new Roster(client, options.roomId);
    this.checkinSetting = new CheckinSetting(client, options.roomId);
    this.helpAlerts = new HelpAlerts(client, (person) => this.chat.replyTo(person));
    this.runSheet = wireRunSheet(client, options.roomId);
    wireAskerNotice(client);
    this.facilitatorLink = new FacilitatorLink(options.roomId, options.token, (token) => {
      // The old link is revoked: reconnect and call the API with the new one from now on.
      client.options.token = token;
      this.invite.token = token;
      this.mediaSetting.token = token;
      this.schedule.token = token;
      options.onNewToken(token);
    });
    this.journey = new JourneyPanel({ client, roomId: options.roomId, token: () => client.options.token });
    this.inviteOpened = false;
    wireNotices(client);
    this.subscribe();
    byId("sound-button").addEventListener("click", () => {
      this.mesh.resumePlayback();
      byId("sound-button").hidden = true;
    });
    this.useMedia(mesh);
  }

  /** @param {"mesh" | "sfu"} path @returns {Mesh | Sfu} */
  createMedia(path) {
    const client = this.client;
    return path === "sfu" ? new Sfu({ send: (pc, data) => client.sfu(pc, data) })
      : new Mesh({ sendSignal: (to, data) => client.signal(to, data) });
  }

  /** Make `media` the page's media path (at start, and when a welcome names the other path).
   * @param {Mesh | Sfu} media */
  useMedia(media) {
    const before = this.mesh;
    if (before !== media) {
      before.closeAll();
      if (before.localStream) media.setLocalStream(before.localStream);
    }
    this.mesh = media;
    media.onAutoplayBlocked = () => { byId("sound-button").hidden = false; };
    media.onSpeaking = (id) => this.onSpeaking(id);
    this.tiles.setMedia(media);
    this.controls.mesh = media;
    this.onMedia(media);
  }

  /** @param {string | null} id */
  onSpeaking(id) {
    if (this.speaking === id) return;
    this.speaking = id;
    this.tiles.speaking = id;
    if (this.client.state.you) this.tiles.render(this.client.state);
  }

  /** "See larger" on a tile: pin that person (again: unpin). In SFU mode the server then sends
   * them at the high layer. @param {string} id */
  togglePin(id) {
    this.setPin(this.pin === id ? null : id);
  }

  /** @param {string | null} pin */
  setPin(pin) {
    if (this.pin === pin) return;
    this.pin = pin;
    this.tiles.pinned = pin;
    if (this.mesh instanceof Sfu) this.client.sfuView(pin).catch((err) => console.debug("hearth: sfu_view", err));
    if (this.client.state.you) this.tiles.render(this.client.state);
  }

  subscribe() {
    const { client } = this;
    client.on("welcome", ({ resumed }) => this.onWelcome(resumed));
    client.on("snapshot", () => this.render());
    client.on("signal", ({ from, data }) => { if (this.mesh instanceof Mesh) this.mesh.handleSignal(from, data); });
    client.on("sfu", (frame) => { if (this.mesh instanceof Sfu) this.mesh.handleSfu(frame); });
    // Your own changes first, in the same event: a facilitator mute disables the track at once.
    client.on("participant_updated", ({ participant, before }) => {
      if (participant.id === client.state.you?.id) this.controls.onSelfUpdated(before, participant);
    });
    client.on("floor", ({ floor, before }) => this.banner.learnClock(floor, before));
    client.on("reaction", ({ from, emoji }) => this.tiles.react(from, emoji));
    client.on("state", () => this.render());
    client.on("status", ({ status }) => {
      byId("connection-status").hidden = status !== "reconnecting";
      document.body.classList.toggle("reconnecting", status === "reconnecting");
    });
    client.on("error", ({ code, message }) => {
      if (code === ErrorCode.RATE_LIMITED) toast("Slow down a little: some of your actions were not sent.", "warning");
      else if (code !== ErrorCode.INVALID_TARGET) console.debug("hearth: error frame", code, message);
    });
  }

  /** @param {boolean} resumed */
  onWelcome(resumed) {
    const { client } = this;
    const state = client.state;
    if (!state.you) return;
    // The path is fixed for a session; a welcome into a new session may name the other one.
    const path = state.media?.path === "sfu" ? "sfu" : "mesh";
    if (this.mesh.path !== path) this.useMedia(this.createMedia(path));
    const mesh = this.mesh;
    // Every welcome (first join, resume, new seat) starts the mesh over: new connections with
    // new tags, so the others replace theirs and video returns without a click. The SFU keeps
    // its connections for the same seat (sfu.js).
    mesh.reset(state.you.id, state.iceServers, state.icePolicy);
    if (mesh instanceof Sfu && this.pin && state.participants.has(this.pin)) {
      client.sfuView(this.pin).catch((err) => console.debug("hearth: sfu_view", err));
    }
    applyLimits(state.limits);
    showScreen("screen-room");
    this.controls.onWelcome(resumed);
    this.help.render();
    if (can(state, "manage_room") && !this.inviteOpened) {
      this.inviteOpened = true;
      this.invite.open();
    }
    this.render();
  }

  render() {
    const { client, mesh } = this;
    const state = client.state;
    const you = state.you;
    if (!you) return;
    if (this.pin && !state.participants.has(this.pin)) this.setPin(null);
    mesh.reconcile(state.participants.values());
    for (const p of state.participants.values()) if (p.id !== you.id) mesh.setAudible(p.id, p.can_speak);
    mesh.setQuality(state.floor.holder === you.id, state.participants.size);
    this.controls.apply();
    this.tiles.render(state);
    this.banner.render();
    this.people.render();
    this.chat.render();
    this.console.render();
    this.helpAlerts.render();
    if (!byId("help-panel").hidden) this.help.render();
    if (can(state, "see_speaking")) renderBalance(state);
    titleWithLobby(state);
    byId("room-topic").textContent = state.room?.topic ?? "";
    byId("room-title").textContent = state.room?.title ?? "";
    // The setting as it is now (a `room_updated` may have changed it); the path stays the session's.
    const media = state.media && { ...state.media, setting: state.room?.settings.media ?? state.media.setting };
    renderMediaPath(byId("room-media"), media, can(state, "manage_room"));
    this.mediaSetting.render();
    this.schedule.render();
  }

  stop() {
    this.banner.stop();
    this.helpAlerts.stop();
    this.mesh.closeAll();
  }
}

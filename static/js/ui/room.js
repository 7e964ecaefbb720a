// @ts-check
/** The room screen: wires the client's events to the mesh and to every part of the page. */
import { ErrorCode } from "../codes.js";
import { can } from "../state.js";
import { toast } from "./announce.js";
import { renderBalance } from "./balance.js";
import { FloorBanner } from "./banner.js";
import { Chat } from "./chat.js";
import { Console } from "./console.js";
import { Controls } from "./controls.js";
import { byId } from "./dom.js";
import { FacilitatorLink } from "./facilitator-link.js";
import { HelpPanel } from "./help.js";
import { InvitePanel } from "./invite.js";
import { applyLimits } from "./limits.js";
import { renderMediaPath } from "./media-path.js";
import { MediaSetting } from "./media-setting.js";
import { titleWithLobby, wireNotices } from "./notices.js";
import { People } from "./people.js";
import { showScreen } from "./screens.js";
import { Tiles } from "./tiles.js";

export class RoomView {
  /**
   * @param {{client: import("../protocol.js").HearthClient, mesh: import("../rtc.js").Mesh,
   *   roomId: string, token: string, wantMic: boolean, wantCamera: boolean, onLeave: () => void,
   *   onNewToken: (token: string) => void}} options
   */
  constructor(options) {
    const { client, mesh } = options;
    this.client = client;
    this.mesh = mesh;
    this.tiles = new Tiles(byId("tiles"), mesh);
    if (mesh.localStream) this.tiles.setLocalStream(mesh.localStream);
    this.banner = new FloorBanner(byId("floor-banner"), () => client.state);
    this.controls = new Controls({ client, mesh, wantMic: options.wantMic, wantCamera: options.wantCamera,
      onLeave: options.onLeave });
    this.chat = new Chat(client);
    this.invite = new InvitePanel(options.roomId, options.token);
    this.people = new People(client, () => this.invite.offerRotation());
    this.console = new Console(client);
    this.mediaSetting = new MediaSetting(options.roomId, options.token, () => client.state);
    this.help = new HelpPanel(client);
    this.facilitatorLink = new FacilitatorLink(options.roomId, options.token, (token) => {
      // The old link is revoked: reconnect and call the API with the new one from now on.
      client.options.token = token;
      this.invite.token = token;
      this.mediaSetting.token = token;
      options.onNewToken(token);
    });
    this.inviteOpened = false;
    wireNotices(client);
    this.subscribe();
    mesh.onAutoplayBlocked = () => { byId("sound-button").hidden = false; };
    byId("sound-button").addEventListener("click", () => {
      mesh.resumePlayback();
      byId("sound-button").hidden = true;
    });
  }

  subscribe() {
    const { client, mesh } = this;
    client.on("welcome", ({ resumed }) => this.onWelcome(resumed));
    client.on("snapshot", () => this.render());
    client.on("signal", ({ from, data }) => mesh.handleSignal(from, data));
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
    const { client, mesh } = this;
    const state = client.state;
    if (!state.you) return;
    // Every welcome (first join, resume, new seat) starts the media over: new connections with
    // new tags, so the others replace theirs and video returns without a click.
    mesh.reset(state.you.id, state.iceServers, state.icePolicy);
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
    mesh.reconcile(state.participants.values());
    for (const p of state.participants.values()) if (p.id !== you.id) mesh.setAudible(p.id, p.can_speak);
    mesh.setQuality(state.floor.holder === you.id, state.participants.size);
    this.controls.apply();
    this.tiles.render(state);
    this.banner.render();
    this.people.render();
    this.chat.render();
    this.console.render();
    if (!byId("help-panel").hidden) this.help.render();
    if (can(state, "see_speaking")) renderBalance(state);
    titleWithLobby(state);
    byId("room-topic").textContent = state.room?.topic ?? "";
    byId("room-title").textContent = state.room?.title ?? "";
    // The setting as it is now (a `room_updated` may have changed it); the path stays the session's.
    const media = state.media && { ...state.media, setting: state.room?.settings.media ?? state.media.setting };
    renderMediaPath(byId("room-media"), media, can(state, "manage_room"));
    this.mediaSetting.render();
  }

  stop() {
    this.banner.stop();
    this.mesh.closeAll();
  }
}

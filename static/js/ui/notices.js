// @ts-check
/** What the room says out loud (the polite live region) and the soft cues: "Sam joined",
 * "you were muted", "you have the floor", and for facilitators "Sam is waiting in the lobby"
 * with a short soft tone and a visible highlight. */
import { softTone } from "../media.js";
import { can } from "../state.js";
import { announce } from "./announce.js";

/** @typedef {import("../state.js").Participant} Participant */

/** @param {import("../protocol.js").HearthClient} client */
export function wireNotices(client) {
  const state = client.state;
  const isYou = (/** @type {string | null | undefined} */ id) => id !== null && id !== undefined && id === state.you?.id;

  client.on("participant_joined", ({ participant }) => {
    if (!isYou(participant.id)) announce(`${participant.name} joined`);
  });

  client.on("participant_left", ({ participant, reason }) => {
    if (!participant || isYou(participant.id)) return;
    const words = { removed: "was removed", timeout: "lost their connection and left" };
    announce(`${participant.name} ${words[/** @type {"removed" | "timeout"} */ (reason)] ?? "left"}`);
  });

  client.on("participant_updated", ({ participant, before }) => {
    if (!before) return;
    if (isYou(participant.id)) selfChanged(before, participant);
    else othersChanged(before, participant);
  });

  /** @param {Participant} before @param {Participant} now */
  function selfChanged(before, now) {
    if (!before.muted_by_facilitator && now.muted_by_facilitator) announce("You were muted by a facilitator");
    else if (before.muted_by_facilitator && !now.muted_by_facilitator) {
      announce("A facilitator allowed you to speak again. Switch your microphone on when you are ready.");
    }
    if (!before.video_muted_by_facilitator && now.video_muted_by_facilitator) announce("A facilitator turned your camera off");
  }

  /** @param {Participant} before @param {Participant} now */
  function othersChanged(before, now) {
    if (before.connected && !now.connected) announce(`${now.name} is reconnecting`);
    if (can(state, "manage_hands") && before.hand === null && now.hand !== null) announce(`${now.name} raised a hand`);
  }

  client.on("floor", ({ floor, before }) => {
    if (floor.mode !== before.mode) {
      const names = { open: "The floor is open: anyone may speak", queue: "Queue mode: raise your hand to speak",
        circle: "Talking circle: the floor goes around in turn" };
      announce(names[/** @type {"open" | "queue" | "circle"} */ (floor.mode)]);
    }
    if (floor.holder === before.holder) return;
    if (isYou(floor.holder)) { announce("You have the floor"); softTone(); }
    else if (isYou(before.holder)) announce("Your turn has ended");
    else if (floor.holder) announce(`${state.name(floor.holder)} has the floor`);
  });

  client.on("floor_time_up", ({ holder }) => {
    if (isYou(holder)) { announce("Your time is up. Take a moment to finish your thought."); softTone(); }
    else if (can(state, "run_floor")) { announce(`${state.name(holder)}'s time is up`); softTone(); }
  });

  client.on("welcome", () => {
    const waiting = can(state, "see_lobby") ? state.lobby.length : 0;
    if (waiting === 0) return;
    announce(waiting === 1 ? `${state.lobby[0].name} is waiting in the lobby` : `${waiting} people are waiting in the lobby`);
    softTone();
  });

  client.on("lobby_changed", ({ arrived }) => {
    if (!can(state, "see_lobby") || arrived.length === 0) return;
    for (const person of arrived) announce(`${person.name} is waiting in the lobby`);
    softTone();
    const section = document.getElementById("lobby-list")?.closest("section");
    section?.classList.remove("attention");
    void section?.getBoundingClientRect(); // restart the highlight
    section?.classList.add("attention");
    setTimeout(() => section?.classList.remove("attention"), 4000);
  });

  client.on("chat", ({ message }) => {
    if (message.private && can(state, "read_private") && !isYou(message.from)) {
      announce(`Private message from ${message.name}`);
      softTone();
    }
  });

  client.on("room_locked", ({ locked }) => {
    announce(locked ? "The room is locked: nobody new can join" : "The room is open to new arrivals again");
  });
}

/** The waiting count in the page title, so a facilitator sees it from another tab.
 * @param {import("../state.js").RoomState} state */
export function titleWithLobby(state) {
  const base = state.room?.title ? `${state.room.title} · Hearth` : "Hearth";
  document.title = can(state, "see_lobby") && state.lobby.length ? `(${state.lobby.length} waiting) ${base}` : base;
}

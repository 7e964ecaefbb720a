// @ts-check
/**
 * The room as this participant sees it, kept up to date from server frames. No DOM, no I/O:
 * `RoomState.apply(frame)` changes the model and returns what changed, so the UI can announce
 * and animate without diffing. The shapes are those of docs/protocol.md.
 */

/**
 * @typedef {object} Participant
 * @property {string} id
 * @property {string} name
 * @property {"facilitator" | "member"} role
 * @property {boolean} audio
 * @property {boolean} video
 * @property {number | null} hand
 * @property {boolean} away
 * @property {boolean} muted_by_facilitator
 * @property {boolean} [video_muted_by_facilitator]
 * @property {boolean} can_speak
 * @property {boolean} connected
 */

/**
 * @typedef {object} Floor
 * @property {"open" | "queue" | "circle"} mode
 * @property {string | null} holder
 * @property {string[]} queue
 * @property {string[]} order
 * @property {number | null} started_at
 * @property {number | null} ends_at
 * @property {number | null} [turn_seconds]
 */

/**
 * @typedef {object} ChatMessage
 * @property {string} id
 * @property {string} from
 * @property {string} name
 * @property {string} text
 * @property {number} ts
 * @property {boolean} private
 * @property {"facilitator" | "member"} [role] the sender's role as the server knows it
 * @property {string} [to] a private reply to this participant
 * @property {boolean} [deleted]
 */

/**
 * An open "Need help now?" alert (with "answer_help"); `id` is the asker's participant id.
 * @typedef {object} HelpAlert
 * @property {string} id
 * @property {string} name
 * @property {string} text
 * @property {number} first_at
 * @property {number} last_at
 * @property {number} count
 */

/**
 * @typedef {object} Room
 * @property {string} id
 * @property {string} title
 * @property {string} topic
 * @property {string} agreement
 * @property {string} crisis_text
 * @property {{lobby: boolean, floor_mode: string, turn_seconds: number | null, max_participants: number,
 *   media?: string, facilitators_see_checkins?: boolean}} settings
 * @property {SheetPhase[]} [run_sheet]
 */

/**
 * The run-sheet phase under way (`welcome.phase`, the `phase` event): never its notes. The page
 * shows the time left from `ends_at`; nobody is cut off when it passes.
 * @typedef {object} Phase
 * @property {number} index
 * @property {string} name
 * @property {number} minutes
 * @property {string} kind "check_in", "review", "topic", "practice", "sharing", "goals", "check_out" or "other"
 * @property {"open" | "queue" | "circle" | null} floor
 * @property {number} started_at
 * @property {number} ends_at
 */

/** A run-sheet phase as the room's definition lists it (`room.run_sheet`, without notes).
 * @typedef {{name: string, minutes: number, kind: string, floor: "open" | "queue" | "circle" | null}} SheetPhase */

/** @typedef {{id: string, name: string, reason?: string}} Waiting reason "after_ban": held because of a ban */
/** `welcome.limits` (rooms/limits.py): absent until the first welcome.
 * @typedef {{max_chat_chars?: number, max_name_chars?: number, grace_seconds?: number, chat_page?: number,
 *   turn_seconds_min?: number, turn_seconds_max?: number}} Limits */
/** `welcome.media` / `snapshot.media`: the path media takes this session (fixed while it lasts),
 * the room's setting, and whether the server has a media server at all.
 * @typedef {{path: "mesh" | "sfu", setting: "mesh" | "sfu" | "auto", sfu_available: boolean}} Media */
/** @typedef {{type: string, [key: string]: any}} Frame */
/** @typedef {{[key: string]: any}} Change */

/**
 * Whether this participant may do or see something: a capability name from
 * `welcome.capabilities` (docs/protocol.md), such as "mute_others" or "see_lobby". The page shows
 * and hides by capability, never by role name; the server checks every action anyway.
 * @param {RoomState} state @param {string} capability
 */
export function can(state, capability) {
  return state.capabilities.has(capability);
}

/**
 * Whether a role grants a capability, from `welcome.role_capabilities`: what the page knows
 * of others (a "protected" participant cannot be muted or removed).
 * @param {RoomState} state @param {string} role @param {string} capability
 */
export function roleCan(state, role, capability) {
  return (state.roleCapabilities[role] ?? []).includes(capability);
}

/** @returns {Floor} */
function emptyFloor() {
  return { mode: "open", holder: null, queue: [], order: [], started_at: null, ends_at: null, turn_seconds: null };
}

export class RoomState {
  constructor() {
    /** @type {Participant | null} */
    this.you = null;
    /** @type {Room | null} */
    this.room = null;
    /** @type {{id?: string, state: string, started_at: number | null} | null} */
    this.session = null;
    /** How this session's media travels (docs/protocol.md §1.9): `path` is fixed for the session.
     * @type {Media | null} */
    this.media = null;
    /** @type {Map<string, Participant>} admitted participants by id, you included */
    this.participants = new Map();
    /** @type {Floor} */
    this.floor = emptyFloor();
    /** @type {Map<string, ChatMessage>} in arrival order */
    this.chat = new Map();
    /** older messages than the first in `chat` can be asked for (`chat_history`) */
    this.chatMore = false;
    /** @type {Set<string>} what you may do and see (`welcome.capabilities`): ask `can()` */
    this.capabilities = new Set();
    /** @type {Record<string, string[]>} each role's capabilities: ask `roleCan()` */
    this.roleCapabilities = {};
    /** @type {Waiting[]} with "see_lobby" only */
    this.lobby = [];
    /** @type {Record<string, number>} with "see_speaking" only: seconds of floor time */
    this.speaking = {};
    /** @type {Map<string, HelpAlert>} with "answer_help" only: open help alerts by asker id */
    this.helpAlerts = new Map();
    /** @type {Phase | null} the run-sheet phase under way */
    this.phase = null;
    /** @type {string[]} with "see_script" only: the facilitators' notes of each phase, by index */
    this.script = [];
    this.locked = false;
    /** @type {string[]} */
    this.reactions = [];
    /** @type {RTCIceServer[]} */
    this.iceServers = [];
    /** @type {RTCIceTransportPolicy} */
    this.icePolicy = "all";
    /** @type {Limits} */
    this.limits = {};
    /** last numbered event included in this view */
    this.seq = 0;
    /** holder whose timed turn ran out (cleared when the turn changes) */
    this.timeUpFor = /** @type {string | null} */ (null);
  }

  /** @param {string} id */
  name(id) {
    return this.participants.get(id)?.name ?? "Someone";
  }

  /** Load a `welcome` or `snapshot` (the whole view). @param {Frame} frame */
  load(frame) {
    this.you = frame.you;
    this.room = frame.room;
    this.session = frame.session;
    this.media = frame.media ?? null;
    this.participants = new Map(frame.participants.map((/** @type {Participant} */ p) => [p.id, p]));
    this.floor = { ...emptyFloor(), ...frame.floor };
    this.chat = new Map(frame.chat.map((/** @type {ChatMessage} */ m) => [m.id, m]));
    this.chatMore = Boolean(frame.chat_more);
    this.capabilities = new Set(frame.capabilities ?? []);
    this.lobby = frame.lobby ?? [];
    this.speaking = frame.speaking ?? {};
    this.helpAlerts = new Map((frame.help_alerts ?? []).map((/** @type {HelpAlert} */ a) => [a.id, a]));
    this.locked = Boolean(frame.locked);
    this.phase = frame.phase ?? null;
    this.script = frame.script ?? [];
    this.seq = frame.seq;
    this.timeUpFor = null;
    if (frame.type === "welcome") {
      this.reactions = frame.reactions ?? [];
      this.iceServers = frame.ice_servers ?? [];
      this.icePolicy = frame.ice_transport_policy === "relay" ? "relay" : "all";
      this.limits = frame.limits ?? {};
      this.roleCapabilities = frame.role_capabilities ?? {};
    }
  }

  /** The id of the oldest chat message held (where `chat_history` pages back from). */
  get oldestChatId() {
    for (const id of this.chat.keys()) return id;
    return null;
  }

  /** Put a `chat_history` page before the messages held. Returns how many were new.
   * @param {Frame} frame */
  prependChat(frame) {
    /** @type {ChatMessage[]} */
    const older = (frame.messages ?? []).filter((/** @type {ChatMessage} */ m) => !this.chat.has(m.id));
    this.chat = new Map([...older.map((m) => /** @type {[string, ChatMessage]} */ ([m.id, m])), ...this.chat]);
    this.chatMore = Boolean(frame.more);
    return older.length;
  }

  /**
   * Apply one event frame. Returns what changed (for announcements), or null for frames that
   * are not room events.
   * @param {Frame} frame
   * @returns {Change | null}
   */
  apply(frame) {
    const handler = HANDLERS[frame.type];
    return handler ? handler(this, frame) : null;
  }

  /** @param {Participant} participant */
  putParticipant(participant) {
    const before = this.participants.get(participant.id) ?? null;
    this.participants.set(participant.id, participant);
    if (this.you && participant.id === this.you.id) this.you = participant;
    return before;
  }
}

/** @type {Record<string, (state: RoomState, frame: Frame) => Change>} */
const HANDLERS = {
  participant_joined(state, frame) {
    state.putParticipant(frame.participant);
    return { participant: frame.participant };
  },
  participant_updated(state, frame) {
    const before = state.putParticipant(frame.participant);
    return { participant: frame.participant, before };
  },
  participant_left(state, frame) {
    const before = state.participants.get(frame.id) ?? null;
    state.participants.delete(frame.id);
    return { id: frame.id, reason: frame.reason, participant: before };
  },
  chat(state, frame) {
    state.chat.set(frame.message.id, frame.message);
    return { message: frame.message };
  },
  chat_deleted(state, frame) {
    const message = state.chat.get(frame.id);
    if (message) state.chat.set(frame.id, { ...message, text: "", deleted: true });
    return { id: frame.id };
  },
  reaction(_state, frame) {
    return { from: frame.from, emoji: frame.emoji };
  },
  floor(state, frame) {
    const before = state.floor;
    const { type: _type, seq: _seq, ...floor } = frame;
    state.floor = { ...emptyFloor(), ...floor };
    if (before.holder !== state.floor.holder || before.started_at !== state.floor.started_at
        || before.ends_at !== state.floor.ends_at) {
      state.timeUpFor = null;
    }
    return { floor: state.floor, before };
  },
  floor_time_up(state, frame) {
    state.timeUpFor = frame.holder;
    return { holder: frame.holder };
  },
  lobby_changed(state, frame) {
    const before = state.lobby;
    state.lobby = frame.waiting;
    const known = new Set(before.map((w) => w.id));
    return { waiting: state.lobby, arrived: state.lobby.filter((w) => !known.has(w.id)) };
  },
  help_alert(state, frame) {
    const before = state.helpAlerts.get(frame.alert.id) ?? null;
    state.helpAlerts.set(frame.alert.id, frame.alert);
    return { alert: frame.alert, before };
  },
  help_closed(state, frame) {
    const alert = state.helpAlerts.get(frame.id) ?? null;
    state.helpAlerts.delete(frame.id);
    return { id: frame.id, by: frame.by ?? null, alert };
  },
  speaking(state, frame) {
    state.speaking = frame.speaking;
    return { speaking: frame.speaking };
  },
  room_locked(state, frame) {
    state.locked = Boolean(frame.locked);
    return { locked: state.locked };
  },
  room_updated(state, frame) {
    state.room = frame.room;
    return { room: frame.room };
  },
  phase(state, frame) {
    const before = state.phase;
    state.phase = frame.phase ?? null;
    return { phase: state.phase, before };
  },
  script(state, frame) {
    state.script = frame.script ?? [];
    return { script: state.script };
  },
  // The group's journey changed ("board", "plans", "checkins"): pages refetch it over HTTP
  // (docs/protocol.md §12). Nothing of it is kept in the room state.
  journey_changed(_state, frame) {
    return { what: String(frame.what) };
  },
};

// @ts-check
/**
 * Saying truthfully which path media takes: on the join screen (from the page's
 * `data-media-*` attributes, rendered by the server from the live session or the room's
 * setting) and in the room (from `welcome.media`/`snapshot.media`, docs/protocol.md §1.9).
 * Where the room asks for the media server but none is set up, everyone reads that video goes
 * directly, and those who run the room also read why (they are the ones who can act on it).
 */

/** @typedef {{path: string, setting: string, sfu_available: boolean}} MediaInfo */

export const MEDIA_TEXT = {
  mesh: "Video goes directly between members' devices.",
  sfu: "Video passes through the group's media server, which never records.",
};

export const NO_SERVER_TEXT =
  "This room is set to use a media server, but none is set up on this server, so video goes directly instead.";

/**
 * The sentence for this path, and the facilitator's detail when the setting cannot be honoured.
 * @param {MediaInfo} media @param {boolean} runsRoom
 * @returns {{text: string, detail: string}}
 */
export function describeMedia(media, runsRoom) {
  const text = media.path === "sfu" ? MEDIA_TEXT.sfu : MEDIA_TEXT.mesh;
  const unmet = media.path === "mesh" && media.setting !== "mesh" && !media.sfu_available;
  return { text, detail: unmet && runsRoom ? NO_SERVER_TEXT : "" };
}

/**
 * Write the description into `element` (one sentence, plus the detail when there is one).
 * @param {HTMLElement} element @param {MediaInfo | null} media @param {boolean} runsRoom
 */
export function renderMediaPath(element, media, runsRoom) {
  if (!media) { element.hidden = true; return; }
  const { text, detail } = describeMedia(media, runsRoom);
  const content = detail ? `${text} ${detail}` : text;
  if (element.textContent !== content) element.textContent = content;
  element.dataset.path = media.path;
  element.hidden = false;
}

/** What the server rendered into the page for the join screen, or null if it said nothing.
 * @param {HTMLElement} app @returns {MediaInfo | null} */
export function pageMedia(app) {
  const { mediaPath, mediaSetting, sfuAvailable } = app.dataset;
  if (!mediaPath || !mediaSetting) return null;
  return { path: mediaPath, setting: mediaSetting, sfu_available: sfuAvailable === "true" };
}

// @ts-check
/**
 * "Add to calendar" on the join screen (web/templates/next_session.html): fetches the group's
 * next sessions as an .ics file (`GET /api/rooms/{id}/schedule.ics`, the page's link as bearer
 * token: the file is for the group's members) and hands it to the browser as a download named
 * after the room. The file has no token in it, only the room page's address.
 */
import { toast } from "./announce.js";

/** A file name from the room's title: letters and digits, dashes between. @param {string} title */
export function calendarFileName(title) {
  const slug = title.normalize("NFKD").replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-+|-+$/g, "").slice(0, 60);
  return `${slug || "hearth"}.ics`;
}

/** Wire the button if the page has one (a room with a schedule). @param {string} roomId @param {string} token */
export function wireCalendarButton(roomId, token) {
  const button = document.getElementById("add-to-calendar");
  if (!(button instanceof HTMLButtonElement)) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(roomId)}/schedule.ics`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!response.ok) {
        toast("The calendar file could not be made with this link.", "warning");
        return;
      }
      const blob = new Blob([await response.arrayBuffer()], { type: "text/calendar" }); // bytes as sent: CRLF kept
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = calendarFileName(button.dataset.roomTitle ?? "");
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch {
      toast("The server could not be reached; try again in a moment.", "warning");
    } finally {
      button.disabled = false;
    }
  });
}

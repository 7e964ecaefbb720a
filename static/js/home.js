// @ts-check
/** Home page: create a room through the JSON API and show its links. */
const form = /** @type {HTMLFormElement} */ (document.getElementById("create-room"));
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  /** @type {Record<string, unknown>} */
  const body = {
    title: data.get("title"), topic: data.get("topic") || "", lobby: data.get("lobby") === "on",
    floor_mode: data.get("floor_mode"), crisis_text: data.get("crisis_text") || "",
    turn_seconds: data.get("turn_seconds") ? Number(data.get("turn_seconds")) : null,
  };
  if (data.get("agreement")) body.agreement = data.get("agreement");
  /** @type {Record<string, string>} */
  const headers = { "content-type": "application/json" };
  if (data.get("organizer_key")) headers.authorization = `Bearer ${data.get("organizer_key")}`;
  const response = await fetch("/api/rooms", { method: "POST", headers, body: JSON.stringify(body) });
  const answer = await response.json();
  if (!response.ok) { alert(answer.error.message); return; }
  const links = /** @type {HTMLElement} */ (document.getElementById("links"));
  /** @type {HTMLAnchorElement} */ (document.getElementById("facilitator-link")).href = answer.facilitator_link;
  /** @type {HTMLInputElement} */ (document.getElementById("member-link")).value = answer.member_link;
  links.hidden = false;
});

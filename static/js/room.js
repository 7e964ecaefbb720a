// @ts-check
/** Room page (minimal until the full client lands): take the token out of the address bar,
 * join, and show participants and chat as text. */
import { HearthSocket } from "./protocol.js";

const params = new URLSearchParams(location.hash.slice(1) || location.search.slice(1));
const token = params.get("k") || "";
history.replaceState(null, "", location.pathname);

const status = /** @type {HTMLElement} */ (document.getElementById("status"));
const joinForm = /** @type {HTMLFormElement} */ (document.getElementById("join-form"));
const room = /** @type {HTMLElement} */ (document.getElementById("room"));
const list = /** @type {HTMLElement} */ (document.getElementById("participants"));
const chat = /** @type {HTMLElement} */ (document.getElementById("chat"));
/** @type {Map<string, any>} */
const people = new Map();

function render() {
  list.replaceChildren(...[...people.values()].map((p) => {
    const li = document.createElement("li");
    li.textContent = `${p.name}${p.role === "facilitator" ? " (facilitator)" : ""}`;
    return li;
  }));
}

/** @param {any} message */
function addChat(message) {
  const li = document.createElement("li");
  li.id = `msg-${message.id}`;
  li.textContent = `${message.name}: ${message.text}`;
  chat.append(li);
}

const socket = new HearthSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
socket.onmessage = (msg) => {
  if (msg.type === "lobby") status.textContent = msg.state.replaceAll("_", " ");
  if (msg.type === "welcome" || msg.type === "snapshot") {
    people.clear();
    for (const p of msg.participants) people.set(p.id, p);
    chat.replaceChildren();
    msg.chat.forEach(addChat);
    room.hidden = false;
    joinForm.hidden = true;
    status.textContent = "";
    render();
  }
  if (msg.type === "participant_joined" || msg.type === "participant_updated") {
    people.set(msg.participant.id, msg.participant); render();
  }
  if (msg.type === "participant_left") { people.delete(msg.id); render(); }
  if (msg.type === "chat") addChat(msg.message);
  if (msg.type === "chat_deleted") document.getElementById(`msg-${msg.id}`)?.remove();
  if (msg.type === "error") status.textContent = msg.message;
  if (msg.type === "session_ended") status.textContent = "The session has ended.";
  if (msg.type === "removed") status.textContent = "You were removed from the session.";
};

joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(joinForm);
  socket.open({ type: "join", token, name: String(data.get("name")), agree: data.get("agree") === "on" });
});

/** @type {HTMLFormElement} */ (document.getElementById("chat-form")).addEventListener("submit", (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (/** @type {HTMLFormElement} */ (event.target).elements.namedItem("text"));
  if (input.value.trim()) socket.send({ type: "chat", text: input.value });
  input.value = "";
});

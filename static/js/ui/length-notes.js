// @ts-check
/**
 * Say when text stops fitting. A field with a `maxLength` (the server's limits: names, chat,
 * room fields) silently drops what is typed or pasted past it; a person who pastes a long
 * message deserves to know that the end of it is not there. Under each such field a polite
 * note appears: a count once 90% of the limit is used, "That's the limit" at the limit, and
 * after a paste that did not fit, how much of it was kept. The note is tied to the field
 * (`aria-describedby`) and is a polite live region, so a screen reader hears it without being
 * interrupted. The limit is read at the moment of typing, so limits set later (from the
 * welcome) count too.
 */

const NEAR = 0.9;
const fmt = new Intl.NumberFormat();

/** @param {HTMLInputElement | HTMLTextAreaElement} field @returns {HTMLElement} */
function noteFor(field) {
  const id = `${field.id || field.name}-length-note`;
  let note = document.getElementById(id);
  if (note) return note;
  note = document.createElement("p");
  note.id = id;
  note.className = "hint length-note";
  note.setAttribute("aria-live", "polite");
  note.hidden = true;
  field.insertAdjacentElement("afterend", note);
  const described = field.getAttribute("aria-describedby");
  field.setAttribute("aria-describedby", described ? `${described} ${id}` : id);
  return note;
}

/** @param {HTMLInputElement | HTMLTextAreaElement} field @param {string} text */
function show(field, text) {
  const note = noteFor(field);
  if (note.textContent !== text) note.textContent = text;
  note.hidden = text === "";
}

/** The note for the field's current length. @param {HTMLInputElement | HTMLTextAreaElement} field */
export function noteLength(field) {
  const max = field.maxLength;
  if (!(max > 0)) return;
  const used = field.value.length;
  if (used >= max) show(field, `That's the limit: ${fmt.format(max)} characters.`);
  else if (used >= max * NEAR) show(field, max - used === 1 ? "1 character left." : `${fmt.format(max - used)} characters left.`);
  else if (document.getElementById(`${field.id || field.name}-length-note`)) show(field, "");
}

/** @param {HTMLInputElement | HTMLTextAreaElement} field @param {ClipboardEvent} event */
function notePaste(field, event) {
  const max = field.maxLength;
  const pasted = event.clipboardData?.getData("text") ?? "";
  if (!(max > 0) || !pasted) return;
  const selected = (field.selectionEnd ?? 0) - (field.selectionStart ?? 0);
  const room = Math.max(0, max - (field.value.length - selected));
  if (pasted.length <= room) return;
  const kept = room === 0 ? "None of what you pasted fits" : `Only the first ${fmt.format(room)} characters of what you pasted fit`;
  // After the browser has inserted what fits, so the count note does not replace this one.
  setTimeout(() => show(field, `${kept}: the limit is ${fmt.format(max)} characters.`), 0);
}

/** Watch every text field under `root` (inputs without a type, text inputs, text areas). @param {ParentNode} root */
export function watchLengths(root) {
  const fields = root.querySelectorAll("textarea, input:not([type]), input[type=text]");
  for (const element of fields) {
    const field = /** @type {HTMLInputElement | HTMLTextAreaElement} */ (element);
    field.addEventListener("input", () => noteLength(field));
    field.addEventListener("paste", (event) => notePaste(field, /** @type {ClipboardEvent} */ (event)));
  }
}

// @ts-check
/** Small DOM helpers shared by the UI modules. Text always goes in through textContent. */

/**
 * The element with this id (it must exist: the templates define every id the code uses).
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @returns {T}
 */
export function byId(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`missing #${id}`);
  return /** @type {T} */ (found);
}

/**
 * Create an element. `props.text` sets textContent; `props.attrs` sets attributes;
 * `props.on` adds listeners; `props.data` fills dataset.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {{className?: string, text?: string, attrs?: Record<string, string>,
 *   data?: Record<string, string>, on?: Record<string, (event: any) => void>}} [props]
 * @param {(Node | string)[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value);
  for (const [name, value] of Object.entries(props.data ?? {})) node.dataset[name] = value;
  for (const [type, fn] of Object.entries(props.on ?? {})) node.addEventListener(type, fn);
  node.append(...children);
  return node;
}

/**
 * Keep `container`'s children in step with `items`, reusing the element of each key, so focus
 * and playing media survive an update. `create` builds an element for a new key; `update`
 * refreshes it for the current item. Elements of vanished keys are removed.
 * @template T
 * @param {HTMLElement} container
 * @param {T[]} items
 * @param {(item: T) => string} keyOf
 * @param {(item: T) => HTMLElement} create
 * @param {(element: HTMLElement, item: T, index: number) => void} update
 */
export function syncList(container, items, keyOf, create, update) {
  const active = document.activeElement;
  /** @type {Map<string, HTMLElement>} */
  const existing = new Map();
  for (const child of Array.from(container.children)) {
    const key = /** @type {HTMLElement} */ (child).dataset.key;
    if (key !== undefined) existing.set(key, /** @type {HTMLElement} */ (child));
  }
  const keep = new Set();
  items.forEach((item, index) => {
    const key = keyOf(item);
    keep.add(key);
    let node = existing.get(key);
    if (!node) {
      node = create(item);
      node.dataset.key = key;
    }
    update(node, item, index);
    if (container.children[index] !== node) container.insertBefore(node, container.children[index] ?? null);
  });
  for (const [key, node] of existing) if (!keep.has(key)) node.remove();
  if (active instanceof HTMLElement && active !== document.activeElement && container.contains(active)) {
    active.focus();
  }
}

/** 151 -> "2:31". @param {number} seconds */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(total / 60);
  return `${minutes}:${String(total % 60).padStart(2, "0")}`;
}

/** "Sam Lee" -> "SL". @param {string} name */
export function initials(name) {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : parts;
  return letters.map((p) => [...p][0] ?? "").join("").toUpperCase() || "?";
}

/** Set a toggle button's pressed state and its visible label. @param {HTMLElement} button
 * @param {boolean} pressed @param {string} [label] */
export function setPressed(button, pressed, label) {
  button.setAttribute("aria-pressed", String(pressed));
  if (label !== undefined) {
    const text = button.querySelector(".label");
    if (text) text.textContent = label; else button.textContent = label;
  }
}

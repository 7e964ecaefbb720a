// One person in Debian's firefox-esr, for the Python e2e tests (tests/e2e/firefox.py).
//
// Playwright cannot drive a system Firefox; WebDriver BiDi can, through puppeteer-core (no
// browser download). One headless Firefox per person: a second page in the same Firefox stays in
// the background and decodes video without presenting it.
//
// Usage: node driver.mjs '{"url": "...", "obfuscate": false}'
// The browser's sound goes to the PulseAudio server named by PULSE_SERVER (the Python fixture
// starts one with a null sink; without it Firefox's AudioContext never starts).
// Then one JSON command per stdin line, one JSON answer per stdout line:
//   {"id": 1, "op": "evaluate", "expression": "..."}  -> {"id": 1, "ok": true, "value": ...}
//   {"id": 2, "op": "click" | "check", "selector": "..."}
//   {"id": 3, "op": "fill", "selector": "...", "value": "..."}
//   {"id": 4, "op": "join", "name": "...", "until": "#screen-room"}  (the join screen, as a person)
//   {"id": 5, "op": "errors"}  -> uncaught page errors so far
//   {"id": 6, "op": "close"}
// A failed command answers {"id", "ok": false, "error"}. Every wait is bounded; the process
// closes Firefox and exits when stdin closes.
import { createInterface } from "node:readline";
import puppeteer from "puppeteer-core";

const FIREFOX = process.env.HEARTH_FIREFOX ?? "/usr/bin/firefox-esr";
const LAUNCH_MS = 60_000;
const COMMAND_MS = 30_000;

const options = JSON.parse(process.argv[2] ?? "{}");

/** @param {object} message */
function answer(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** @template T @param {Promise<T>} promise @param {number} ms @param {string} what @returns {Promise<T>} */
function bounded(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const browser = await bounded(puppeteer.launch({
  browser: "firefox",
  executablePath: FIREFOX,
  headless: true,
  protocolTimeout: COMMAND_MS,
  extraPrefsFirefox: {
    "media.navigator.streams.fake": true,
    "media.navigator.permission.disabled": true,
    "media.autoplay.default": 0,
    "media.autoplay.blocking_policy": 0,
    // Firefox's default is true: host candidates are mDNS `.local` names.
    "media.peerconnection.ice.obfuscate_host_addresses": Boolean(options.obfuscate),
    // Firefox skips STUN and TURN servers on loopback addresses unless this is set: the tests'
    // TURN server is coturn on 127.0.0.1.
    "media.peerconnection.ice.loopback": true,
  },
}), LAUNCH_MS, "launching Firefox");

let closing = false;
async function close() {
  if (closing) return;
  closing = true;
  await bounded(browser.close(), 10_000, "closing Firefox").catch(() => browser.process()?.kill("SIGKILL"));
  process.exit(0);
}

const errors = [];
const page = (await browser.pages())[0] ?? await browser.newPage();
page.setDefaultTimeout(COMMAND_MS);
page.on("pageerror", (error) => errors.push(String(error?.message ?? error)));
await bounded(page.setViewport({ width: 1280, height: 800 }).catch(() => {}), COMMAND_MS, "the window size");
await bounded(page.goto(options.url), COMMAND_MS, "opening the page");

/** @param {string} selector */
function visible(selector) {
  return page.locator(selector).setVisibility("visible").setTimeout(COMMAND_MS);
}

const ops = {
  evaluate: (c) => page.evaluate(c.expression),
  click: (c) => visible(c.selector).click(),
  check: (c) => page.evaluate((s) => { const el = document.querySelector(s); if (!el.checked) el.click(); }, c.selector),
  fill: (c) => visible(c.selector).fill(c.value),
  join: async (c) => {
    await visible("#join-name").fill(c.name);
    await ops.check({ selector: "#join-agree" });
    await visible("#join-button").click();
    await visible(c.until ?? "#screen-room").wait();
  },
  errors: async () => errors,
  close,
};

answer({ ready: true });
const lines = createInterface({ input: process.stdin });
lines.on("close", close);
for await (const line of lines) {
  if (!line.trim()) continue;
  let command;
  try { command = JSON.parse(line); } catch { answer({ ok: false, error: "not JSON" }); continue; }
  const op = ops[command.op];
  try {
    if (!op) throw new Error(`unknown op ${command.op}`);
    const value = await bounded(Promise.resolve(op(command)), COMMAND_MS + 5_000, command.op);
    answer({ id: command.id, ok: true, value: value ?? null });
  } catch (error) {
    answer({ id: command.id, ok: false, error: String(error?.message ?? error) });
  }
}

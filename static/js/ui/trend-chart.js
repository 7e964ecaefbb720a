// @ts-check
/**
 * "My trend": a member's own check-in score (the PEG mean, 0-10) by session as a small inline
 * SVG line chart, check-in and check-out as two series, with the same numbers in a table for
 * screen readers (the chart itself is one labelled image). Nobody else's numbers ever reach it.
 */
import { el } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 320;
const HEIGHT = 160;
const PAD = { left: 28, right: 12, top: 10, bottom: 26 };

/** @typedef {import("../journey-api.js").Card} Card */
/** @typedef {{session: number, score: number, x: number, y: number}} Point */

/**
 * Where each card's score goes on the chart, per series (pure, for the chart and its tests).
 * @param {Card[]} cards
 * @returns {{sessions: number[], in: Point[], out: Point[]}}
 */
export function trendPoints(cards) {
  const sessions = [...new Set(cards.map((c) => c.session))].sort((a, b) => a - b);
  const span = WIDTH - PAD.left - PAD.right;
  const xOf = (/** @type {number} */ session) => {
    const i = sessions.indexOf(session);
    return PAD.left + (sessions.length < 2 ? span / 2 : (span * i) / (sessions.length - 1));
  };
  const yOf = (/** @type {number} */ score) => PAD.top + (HEIGHT - PAD.top - PAD.bottom) * (1 - score / 10);
  /** @param {"in" | "out"} kind */
  const series = (kind) => cards.filter((c) => c.kind === kind).sort((a, b) => a.session - b.session)
    .map((c) => ({ session: c.session, score: c.score, x: xOf(c.session), y: yOf(c.score) }));
  return { sessions, in: series("in"), out: series("out") };
}

/** @param {string} tag @param {Record<string, string | number>} attrs */
function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

/**
 * Draw the chart and its table into `container` (replacing what was there).
 * @param {HTMLElement} container @param {Card[]} cards
 */
export function renderTrend(container, cards) {
  if (cards.length === 0) {
    container.replaceChildren(el("p", { className: "hint", text:
      "Your trend shows here once you have filled in a check-in card. Only you see it." }));
    return;
  }
  const points = trendPoints(cards);
  const chart = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "trend-chart", role: "img",
    "aria-labelledby": "trend-chart-title" });
  const title = svg("title", { id: "trend-chart-title" });
  title.textContent = "Your check-in score by session (0 to 10; lower is better). The numbers are in the table below.";
  chart.append(title);
  const bottom = HEIGHT - PAD.bottom;
  for (const score of [0, 5, 10]) {
    const y = PAD.top + (bottom - PAD.top) * (1 - score / 10);
    chart.append(svg("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y, class: "trend-grid" }));
    const label = svg("text", { x: PAD.left - 6, y: y + 4, class: "trend-axis", "text-anchor": "end" });
    label.textContent = String(score);
    chart.append(label);
  }
  const xs = new Map([...points.in, ...points.out].map((p) => [p.session, p.x]));
  for (const session of points.sessions) {
    const label = svg("text", { x: xs.get(session) ?? 0, y: HEIGHT - 8, class: "trend-axis", "text-anchor": "middle" });
    label.textContent = String(session);
    chart.append(label);
  }
  for (const [kind, series] of /** @type {const} */ ([["in", points.in], ["out", points.out]])) {
    if (series.length > 1) {
      chart.append(svg("polyline", { class: `trend-line trend-${kind}`, fill: "none",
        points: series.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ") }));
    }
    for (const p of series) {
      chart.append(kind === "in"
        ? svg("circle", { cx: p.x.toFixed(1), cy: p.y.toFixed(1), r: 4, class: "trend-dot trend-in" })
        : svg("rect", { x: (p.x - 4).toFixed(1), y: (p.y - 4).toFixed(1), width: 8, height: 8, class: "trend-dot trend-out" }));
    }
  }
  const legend = el("p", { className: "trend-legend hint" },
    el("span", { className: "legend-in", text: "● Check-in (start of session)" }), " ",
    el("span", { className: "legend-out", text: "■ Check-out (end of session)" }));
  container.replaceChildren(chart, legend, trendTable(cards, points.sessions));
}

/** @param {Card[]} cards @param {number[]} sessions */
function trendTable(cards, sessions) {
  const score = (/** @type {number} */ session, /** @type {"in" | "out"} */ kind) =>
    cards.find((c) => c.session === session && c.kind === kind)?.score.toFixed(1) ?? "–";
  return el("table", { className: "visually-hidden trend-table" },
    el("caption", { text: "Your check-in scores by session" }),
    el("thead", {}, el("tr", {},
      el("th", { text: "Session", attrs: { scope: "col" } }),
      el("th", { text: "Check-in", attrs: { scope: "col" } }),
      el("th", { text: "Check-out", attrs: { scope: "col" } }))),
    el("tbody", {}, ...sessions.map((s) => el("tr", {},
      el("th", { text: `Session ${s}`, attrs: { scope: "row" } }),
      el("td", { text: score(s, "in") }),
      el("td", { text: score(s, "out") })))));
}

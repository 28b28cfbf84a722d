// A small SVG line chart: points [{t: epoch s, v}], an optional threshold line, axis labels.
// The y axis starts at 0 and is marked at round numbers (niceTicks). Optionally shaded bands
// behind the line ([{from, to}] in epoch s: an alarm's time in ALARM) and a fixed time range.
import { locale } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";

function el(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * Round y-axis marks from 0 to at least `max`: a step of 1, 2 or 5 × 10^k (or 25, 250…), the
 * one giving closest to 4 intervals (then the lowest top): 100 → 0/25/50/75/100, 9 → 0/2/…/10,
 * 3 → 0/1/2/3. `integer` keeps the step ≥ 1 (instance counts).
 */
export function niceTicks(max, { integer = false } = {}) {
  const top = Number.isFinite(max) && max > 0 ? max : 1;
  const k0 = Math.floor(Math.log10(top / 4));
  let best = null;
  for (let k = k0 - 1; k <= k0 + 1; k++) {
    for (const m of k >= 1 ? [1, 2, 2.5, 5] : [1, 2, 5]) {
      const step = m * 10 ** k;
      if (integer && step < 1) continue;
      const n = Math.max(1, Math.ceil(top / step - 1e-9));
      const score = [Math.abs(n - 4), n * step];
      if (!best || score[0] < best.score[0] || (score[0] === best.score[0] && score[1] < best.score[1])) best = { step, n, score };
    }
  }
  const digits = Math.max(0, -Math.floor(Math.log10(best.step)) + 1);
  return Array.from({ length: best.n + 1 }, (_, i) => Number((i * best.step).toFixed(digits)));
}

export function lineChart({ points, threshold, width = 640, height = 220, label = "", integer = false, bands = [], from, to }) {
  const pad = { l: 44, r: 12, t: 24, b: 26 };
  const svg = el("svg", { class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  const pts = [...points].sort((a, b) => a.t - b.t);
  const now = Date.now() / 1000;
  const t0 = from ?? (pts.length ? pts[0].t : now - 3600);
  const t1 = to ?? (pts.length > 1 ? pts[pts.length - 1].t : t0 + 3600);
  const ticks = niceTicks(Math.max(threshold ?? 0, ...pts.map((p) => p.v)), { integer });
  const vmax = ticks[ticks.length - 1];
  const x = (t) => pad.l + ((t - t0) / Math.max(1, t1 - t0)) * (width - pad.l - pad.r);
  const y = (v) => height - pad.b - (v / vmax) * (height - pad.t - pad.b);
  for (const b of bands) {
    const a = x(Math.max(t0, b.from));
    const z = x(Math.min(t1, b.to));
    if (z > a) svg.append(el("rect", { class: "band", x: a.toFixed(1), y: pad.t, width: (z - a).toFixed(1), height: height - pad.t - pad.b }));
  }
  for (const v of ticks) {
    svg.append(el("line", { class: "grid", x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v) }));
    svg.append(el("text", { class: "tick", x: pad.l - 6, y: y(v) + 4, "text-anchor": "end" }, v.toLocaleString(locale())));
  }
  svg.append(el("text", { x: pad.l, y: height - 6 }, new Date(t0 * 1000).toLocaleTimeString(locale())));
  svg.append(el("text", { x: width - pad.r - 70, y: height - 6 }, new Date(t1 * 1000).toLocaleTimeString(locale())));
  if (threshold !== undefined && threshold !== null) {
    svg.append(el("line", { class: "threshold", x1: pad.l, x2: width - pad.r, y1: y(threshold), y2: y(threshold) }));
  }
  if (pts.length) {
    const d = pts.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
    svg.append(el("path", { class: "line", d }));
    for (const p of pts) svg.append(el("circle", { cx: x(p.t), cy: y(p.v), r: 2.5, fill: "#0972d3" }));
  }
  svg.append(el("text", { x: pad.l + 4, y: 12 }, label));
  return svg;
}

// A small SVG line chart: points [{t: epoch s, v}], an optional threshold line, axis labels.
import { locale } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";

function el(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function lineChart({ points, threshold, width = 640, height = 220, label = "" }) {
  const pad = { l: 44, r: 12, t: 18, b: 26 };
  const svg = el("svg", { class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  const pts = [...points].sort((a, b) => a.t - b.t);
  const now = Date.now() / 1000;
  const t0 = pts.length ? pts[0].t : now - 3600;
  const t1 = pts.length > 1 ? pts[pts.length - 1].t : t0 + 3600;
  const vmax = Math.max(1, threshold ?? 0, ...pts.map((p) => p.v)) * 1.1;
  const x = (t) => pad.l + ((t - t0) / Math.max(1, t1 - t0)) * (width - pad.l - pad.r);
  const y = (v) => height - pad.b - (v / vmax) * (height - pad.t - pad.b);
  for (let i = 0; i <= 4; i++) {
    const v = (vmax / 4) * i;
    svg.append(el("line", { class: "grid", x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v) }));
    svg.append(el("text", { x: 4, y: y(v) + 4 }, v.toFixed(v < 10 ? 1 : 0)));
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

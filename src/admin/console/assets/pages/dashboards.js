// CloudWatch → Dashboards: the list (ListDashboards, DeleteDashboards) and one dashboard
// (GetDashboard) drawn from its body: `metric` widgets in the time-series view as line graphs
// (GetMetricData, one graph per metric line), `text` widgets as plain text, anything else named
// as not supported. Widgets sit on the body's 24-column grid.
import { cloudwatch, session } from "../api.js";
import { h, clear, table, errorBox, when } from "../dom.js";
import { t } from "../i18n.js";
import { go } from "../router.js";
import { lineChart } from "../chart.js";
import { rangeSelect, RANGES, dimText, series } from "./metric_data.js";

export async function list(root) {
  const out = h("div");
  const holder = h("div", { id: "dashboards" });
  root.append(h("h1", {}, t("nav.dashboards")), out, holder);
  const load = async () => {
    const all = [];
    let token;
    for (let page = 0; page < 20; page++) {
      const r = await cloudwatch("ListDashboards", token ? { NextToken: token } : {});
      all.push(...(r.DashboardEntries || []));
      token = r.NextToken;
      if (!token) break;
    }
    clear(holder, table([
      { label: t("dash.name"), get: (d) => h("a", { href: `#/cw/dashboards/${encodeURIComponent(d.DashboardName)}` }, d.DashboardName) },
      { label: t("dash.modified"), get: (d) => when(d.LastModified) },
      { label: t("dash.size"), get: (d) => String(d.Size ?? "") },
      { label: "", get: (d) => h("button", { "data-act": "delete", onclick: async (e) => {
        e.stopPropagation();
        try { await cloudwatch("DeleteDashboards", { DashboardNames: [d.DashboardName] }); await load(); } catch (err) { clear(out, errorBox(err)); }
      } }, t("common.delete")) },
    ], all, { id: (d) => d.DashboardName, onselect: (id) => go(`/cw/dashboards/${encodeURIComponent(id)}`), empty: t("dash.none") }));
  };
  await load();
  return { refresh: load };
}

/** The body's `start` ("-PT3H", "-P1D", "-PT15M", "-P1W"), in seconds; else `fallback`. */
function startRange(start, fallback) {
  const m = /^-P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(String(start || ""));
  if (!m) return fallback;
  const [w, d, hh, mm, ss] = m.slice(1).map((x) => Number(x || 0));
  const s = (((w * 7 + d) * 24 + hh) * 60 + mm) * 60 + ss;
  return s > 0 ? s : fallback;
}

/**
 * The metric lines of a widget: each row is [Namespace, MetricName, dim, value, …, {options}],
 * where "." repeats the previous row's value at that place. A math expression row is skipped
 * (counted, so the widget can say so).
 */
export function metricRows(props) {
  const out = [];
  let skipped = 0;
  let prev = [];
  for (const row of Array.isArray(props.metrics) ? props.metrics : []) {
    if (!Array.isArray(row)) { skipped++; continue; }
    const opts = row.length && typeof row[row.length - 1] === "object" && row[row.length - 1] !== null ? row[row.length - 1] : {};
    const parts = (opts === row[row.length - 1] ? row.slice(0, -1) : row).map((p, i) => (p === "." ? prev[i] : p));
    if (opts.expression || parts.length < 2) { skipped++; continue; }
    prev = parts;
    const dims = [];
    for (let i = 2; i + 1 < parts.length; i += 2) dims.push({ Name: String(parts[i]), Value: String(parts[i + 1]) });
    out.push({
      Namespace: String(parts[0]), MetricName: String(parts[1]), Dimensions: dims,
      stat: opts.stat || props.stat || "Average", period: Number(opts.period || props.period || 300),
      label: opts.label || `${parts[1]} ${dims.length ? dimText(dims) : ""}`.trim(),
    });
  }
  return { rows: out, skipped };
}

const ROW = 44; // pixels per grid row of the body's layout

async function metricWidget(box, w, range) {
  const props = w.properties || {};
  const view = props.view || "timeSeries";
  if (view !== "timeSeries") {
    box.append(h("p", { class: "muted unsupported" }, t("dash.unsupportedView", { view })));
    return;
  }
  const { rows, skipped } = metricRows(props);
  const pts = await series(rows, range, props.region || session.region);
  const threshold = props.annotations && Array.isArray(props.annotations.horizontal) && props.annotations.horizontal[0]
    ? Number(props.annotations.horizontal[0].value) : undefined;
  const height = Math.max(110, Math.floor(((w.height || 6) * ROW - 40) / Math.max(1, rows.length)));
  rows.forEach((m, i) => box.append(lineChart({ points: pts[i], threshold, height, width: (w.width || 6) * 46, label: `${m.label} (${t(`stat.${m.stat}`)})` })));
  if (skipped) box.append(h("p", { class: "muted unsupported" }, t("dash.skippedLines", { n: skipped })));
  else if (!rows.length) box.append(h("p", { class: "muted" }, t("dash.noMetrics")));
}

export async function detail(root, { name }) {
  const out = h("div");
  const grid = h("div", { class: "dash", id: "dashboard" });
  let range;
  const picker = h("form", { class: "toolbar", onsubmit: (e) => e.preventDefault() });
  root.append(h("h1", {}, t("dash.title", { name })), out, picker, grid);
  const load = async () => {
    const d = await cloudwatch("GetDashboard", { DashboardName: name });
    let body;
    try { body = JSON.parse(d.DashboardBody || "{}"); } catch (err) { clear(grid, errorBox(err)); return; }
    if (range === undefined) range = startRange(body.start, 3 * 3600);
    const r = rangeSelect(RANGES.includes(range) ? range : 3 * 3600);
    r.id = "dash-range";
    if (!RANGES.includes(range)) r.prepend(h("option", { value: String(range), selected: true }, body.start));
    r.addEventListener("change", () => { range = Number(r.value); load(); });
    clear(picker, h("label", { for: "dash-range" }, t("metrics.range")), r,
      h("button", { id: "dash-delete", type: "button", onclick: async () => {
        try { await cloudwatch("DeleteDashboards", { DashboardNames: [name] }); go("/cw/dashboards"); } catch (err) { clear(out, errorBox(err)); }
      } }, t("dash.delete")));
    const widgets = (Array.isArray(body.widgets) ? body.widgets : []).filter((w) => w && typeof w === "object");
    const boxes = await Promise.all(widgets.map(async (w) => {
      const props = (w && w.properties) || {};
      const box = h("section", { class: "panel widget", "data-type": String(w.type) }, h("h2", {}, props.title || ""));
      // Through CSSOM: the page's CSP refuses style attributes.
      box.style.gridColumn = `${Number.isInteger(w.x) ? `${w.x + 1} / ` : ""}span ${Math.min(24, w.width || 6)}`;
      box.style.gridRow = `${Number.isInteger(w.y) ? `${w.y + 1} / ` : ""}span ${w.height || 6}`;
      try {
        if (w.type === "metric") await metricWidget(box, w, range);
        else if (w.type === "text") box.append(h("div", { class: "text-widget" }, String(props.markdown || "")));
        else box.append(h("p", { class: "muted unsupported" }, t("dash.unsupported", { type: String(w.type) })));
      } catch (err) { box.append(errorBox(err)); }
      return box;
    }));
    clear(grid, boxes.length ? boxes : h("p", { class: "muted" }, t("common.empty")));
  };
  try { await load(); } catch (err) { clear(out, errorBox(err)); }
  return { refresh: load };
}

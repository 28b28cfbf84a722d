// CloudWatch → Metrics: the browser. A namespace, then a metric name, then the dimension
// combinations that metric has (all from ListMetrics); a row picked is graphed with the chosen
// statistic, period and time range (GetMetricData, through metric_data.js), and can be added to
// a dashboard as a line widget (GetDashboard + PutDashboard, a new dashboard when there is none).
import { cloudwatch, session, ApiError } from "../api.js";
import { h, clear, table, errorBox, note, select, field, input } from "../dom.js";
import { t } from "../i18n.js";
import { lineChart } from "../chart.js";
import { statSelect, periodSelect, rangeSelect, dimText, series } from "./metric_data.js";

// Kept across re-renders and visits, as the console keeps the browser's place.
const pick = { ns: "", name: "", key: "", stat: "Average", period: 300, range: 3 * 3600 };

const keyOf = (m) => JSON.stringify([m.Namespace, m.MetricName, (m.Dimensions || []).map((d) => [d.Name, d.Value])]);

/** Every metric ListMetrics has (paged by NextToken). */
async function listAll() {
  const all = [];
  let token;
  for (let page = 0; page < 50; page++) {
    const r = await cloudwatch("ListMetrics", token ? { NextToken: token } : {});
    all.push(...(r.Metrics || []));
    token = r.NextToken;
    if (!token) break;
  }
  return all;
}

/** Add `m` as a time-series widget below the dashboard's others (creating the dashboard). */
async function addToDashboard(name, m) {
  let body = { widgets: [] };
  try {
    const d = await cloudwatch("GetDashboard", { DashboardName: name });
    body = JSON.parse(d.DashboardBody || "{}");
    if (!Array.isArray(body.widgets)) body.widgets = [];
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  const bottom = Math.max(0, ...body.widgets.map((w) => (Number(w.y) || 0) + (Number(w.height) || 6)));
  body.widgets.push({ type: "metric", x: 0, y: bottom, width: 12, height: 6, properties: {
    title: m.MetricName, view: "timeSeries", region: session.region, stat: pick.stat, period: pick.period,
    metrics: [[m.Namespace, m.MetricName, ...(m.Dimensions || []).flatMap((d) => [d.Name, d.Value])]] } });
  await cloudwatch("PutDashboard", { DashboardName: name, DashboardBody: JSON.stringify(body) });
}

export async function page(root) {
  // Forms, so a live refresh waits while a choice is being made (app.js `editing`).
  const controls = h("form", { class: "toolbar", onsubmit: (e) => e.preventDefault() });
  const holder = h("div", { id: "metrics" });
  const graph = h("div", { id: "metric-graph" });
  const out = h("div");
  // Outside the graph, so the answer of "add to dashboard" outlives the refresh it causes.
  const added = h("div", { id: "add-dash-result" });
  root.append(h("h1", {}, t("nav.metrics")), out, controls, holder, graph, added);

  const draw = async (m) => {
    if (!m) { clear(graph); return; }
    const stat = statSelect(pick.stat);
    const period = periodSelect(pick.period);
    const range = rangeSelect(pick.range);
    stat.id = "metric-stat";
    period.id = "metric-period";
    range.id = "metric-range";
    stat.addEventListener("change", () => { pick.stat = stat.value; draw(m); });
    period.addEventListener("change", () => { pick.period = Number(period.value); draw(m); });
    range.addEventListener("change", () => { pick.range = Number(range.value); draw(m); });
    let points = [];
    let error = null;
    try {
      [points] = await series([{ ...m, stat: pick.stat, period: pick.period }], pick.range);
    } catch (err) { error = err; }
    const dash = input("DashboardName", "", { required: true });
    const add = h("form", { class: "toolbar", id: "add-to-dash", onsubmit: async (e) => {
      e.preventDefault();
      const name = dash.value.trim();
      try {
        await addToDashboard(name, m);
        clear(added, note([t("metrics.added", { name }), " ", h("a", { href: `#/cw/dashboards/${encodeURIComponent(name)}` }, t("metrics.viewDash"))]));
      } catch (err) { clear(added, errorBox(err)); }
    } }, h("label", { for: "add-dash-name" }, t("metrics.dashName")), Object.assign(dash, { id: "add-dash-name" }),
      h("button", { type: "submit", id: "add-dash-submit" }, t("metrics.addToDash")));
    clear(graph, h("div", { class: "panel" },
      h("h2", {}, `${m.Namespace} · ${m.MetricName}`),
      h("p", { class: "muted" }, dimText(m.Dimensions)),
      h("form", { class: "form", onsubmit: (e) => e.preventDefault() }, field(t("alarm.statistic"), stat), field(t("alarm.period"), period), field(t("metrics.range"), range)),
      error ? errorBox(error) : lineChart({ points, label: `${m.MetricName} (${t(`stat.${pick.stat}`)})` }),
      h("p", { class: "muted", id: "metric-points" }, t("metrics.points", { n: points.length })), add));
  };

  const load = async () => {
    const all = await listAll();
    const namespaces = [...new Set(all.map((m) => m.Namespace))].sort();
    if (!namespaces.includes(pick.ns)) pick.ns = namespaces[0] || "";
    const inNs = all.filter((m) => m.Namespace === pick.ns);
    const names = [...new Set(inNs.map((m) => m.MetricName))].sort();
    if (pick.name && !names.includes(pick.name)) pick.name = "";
    const ns = select("Namespace", namespaces.length ? namespaces : [["", t("common.empty")]], pick.ns);
    const name = select("MetricName", [["", t("metrics.allNames")], ...names], pick.name);
    ns.addEventListener("change", () => { pick.ns = ns.value; pick.name = ""; pick.key = ""; load(); });
    name.addEventListener("change", () => { pick.name = name.value; load(); });
    clear(controls,
      h("label", { for: "metric-ns" }, t("metrics.namespace")), Object.assign(ns, { id: "metric-ns" }),
      h("label", { for: "metric-name" }, t("metrics.name")), Object.assign(name, { id: "metric-name" }));
    const shown = inNs.filter((m) => !pick.name || m.MetricName === pick.name)
      .sort((a, b) => dimText(a.Dimensions).localeCompare(dimText(b.Dimensions)) || a.MetricName.localeCompare(b.MetricName));
    clear(holder, table([
      { label: t("alarm.dimensions"), get: (m) => dimText(m.Dimensions) },
      { label: t("metrics.name"), get: (m) => m.MetricName },
    ], shown, { id: keyOf, selected: pick.key, onselect: (id) => { pick.key = id; load(); }, empty: t("metrics.none") }));
    await draw(shown.find((m) => keyOf(m) === pick.key));
  };
  try { await load(); } catch (err) { clear(out, errorBox(err)); }
  return { refresh: load };
}

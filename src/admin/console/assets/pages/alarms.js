// CloudWatch → Alarms: list with a state filter (DescribeAlarms), create (alarm_form.js),
// delete (DeleteAlarms), and one alarm's page: edit, its metric graph with the threshold line
// (GetMetricStatistics) and the spans it was in ALARM shaded behind it, and its history
// (DescribeAlarmHistory). All in JSON 1.0, as current SDKs call CloudWatch.
import { cloudwatch } from "../api.js";
import { h, clear, table, state, errorBox, details, select, when, note } from "../dom.js";
import { t } from "../i18n.js";
import { lineChart } from "../chart.js";
import { clockNow } from "../workshop.js";
import { alarmForm } from "./alarm_form.js";

const OPS = { GreaterThanOrEqualToThreshold: ">=", GreaterThanThreshold: ">", LessThanOrEqualToThreshold: "<=", LessThanThreshold: "<" };
const condition = (a) => `${a.MetricName} ${OPS[a.ComparisonOperator] || a.ComparisonOperator} ${a.Threshold} (${a.EvaluationPeriods} × ${a.Period}s)`;
let filter = "";

/**
 * The time spans in ALARM from the history's StateUpdate items (oldest first): each from the
 * change into ALARM to the next change, the last one to `now`.
 */
export function alarmBands(items, now) {
  const ups = items.filter((x) => x.HistoryItemType === "StateUpdate").map((x) => {
    let data = {};
    try { data = JSON.parse(x.HistoryData || "{}"); } catch { data = {}; }
    const ts = typeof x.Timestamp === "number" ? x.Timestamp : Date.parse(x.Timestamp) / 1000;
    return { t: ts, from: data.oldState && data.oldState.stateValue, to: data.newState && data.newState.stateValue };
  }).sort((a, b) => a.t - b.t);
  const bands = [];
  let start = ups.length && ups[0].from === "ALARM" ? -Infinity : null;
  for (const u of ups) {
    if (start !== null && u.to !== "ALARM") { bands.push({ from: start, to: u.t }); start = null; }
    else if (start === null && u.to === "ALARM") start = u.t;
  }
  if (start !== null) bands.push({ from: start, to: now });
  return bands;
}

export async function list(root) {
  const out = h("div");
  const holder = h("div", { id: "alarms" });
  const formHolder = h("div");
  const create = async () => {
    try {
      clear(formHolder, await alarmForm(undefined, async (name) => { clear(formHolder); clear(out, note(t("alarm.saved", { name }))); await load(); }));
    } catch (err) { clear(out, errorBox(err)); }
  };
  const pick = select("StateValue", [["", t("alarm.all")], ["ALARM", t("alarm.inAlarm")], ["OK", t("alarm.ok")], ["INSUFFICIENT_DATA", t("alarm.insufficient")]], filter);
  pick.addEventListener("change", () => { filter = pick.value; load(); });
  root.append(h("h1", {}, t("nav.alarms")), h("div", { class: "toolbar" }, h("label", { for: "alarm-filter" }, t("alarm.state")), Object.assign(pick, { id: "alarm-filter" }),
    h("button", { class: "primary", id: "alarm-create", onclick: create }, t("alarm.create"))), formHolder, out, holder);
  const load = async () => {
    const r = await cloudwatch("DescribeAlarms", filter ? { StateValue: filter } : {});
    clear(holder, table([
      { label: t("alarm.name"), get: (a) => h("a", { href: `#/cw/alarms/${encodeURIComponent(a.AlarmName)}` }, a.AlarmName) },
      { label: t("alarm.state"), get: (a) => state(a.StateValue) },
      { label: t("alarm.conditions"), get: condition },
      { label: t("alarm.actions"), get: (a) => (a.AlarmActions || []).join(", ") },
      { label: "", get: (a) => h("button", { onclick: async () => {
        try { await cloudwatch("DeleteAlarms", { AlarmNames: [a.AlarmName] }); await load(); } catch (err) { clear(out, errorBox(err)); }
      } }, t("common.delete")) },
    ], r.MetricAlarms || [], { id: (a) => a.AlarmName }));
  };
  await load();
  return { refresh: load };
}

export async function detail(root, { name }) {
  const body = h("div");
  const out = h("div");
  const formHolder = h("div");
  let current;
  const edit = async () => {
    try {
      // The alarm as it is now (the CLI may have changed it since the page drew it).
      current = ((await cloudwatch("DescribeAlarms", { AlarmNames: [name] })).MetricAlarms || [])[0] || current;
      // The form edits one metric; an alarm on metric math stays with the CLI.
      if (current && !current.MetricName) { clear(out, errorBox(t("alarm.mathNoEdit"))); return; }
      clear(formHolder, await alarmForm(current, async () => { clear(formHolder); clear(out, note(t("alarm.saved", { name }))); await load(); }));
    } catch (err) { clear(out, errorBox(err)); }
  };
  root.append(h("h1", {}, t("alarm.title", { name })),
    h("div", { class: "toolbar" }, h("button", { id: "alarm-edit", onclick: edit }, t("alarm.edit"))), formHolder, out, body);
  const load = async () => {
    const r = await cloudwatch("DescribeAlarms", { AlarmNames: [name] });
    const a = (r.MetricAlarms || [])[0];
    if (!a) { clear(body, errorBox(t("alarm.noSuchAlarm"))); return; }
    current = a;
    const now = clockNow();
    const [stats, hist] = await Promise.all([
      cloudwatch("GetMetricStatistics", { Namespace: a.Namespace, MetricName: a.MetricName, Dimensions: a.Dimensions || [],
        StartTime: now - 3 * 3600, EndTime: now + 60, Period: a.Period, Statistics: [a.Statistic || "Average"] }),
      cloudwatch("DescribeAlarmHistory", { AlarmName: name }),
    ]);
    const stat = a.Statistic || "Average";
    const pts = (stats.Datapoints || []).map((d) => ({ t: Number(d.Timestamp), v: d[stat] }));
    const items = hist.AlarmHistoryItems || [];
    const bands = alarmBands(items, now);
    // From the first point or ALARM span (at most three hours back) to now.
    const from = Math.max(now - 3 * 3600, Math.min(now - 900, ...pts.map((p) => p.t), ...bands.map((b) => b.from)));
    clear(body,
      details([[t("alarm.state"), h("span", { id: "alarm-state" }, state(a.StateValue))], [t("alarm.reason"), a.StateReason],
        [t("alarm.conditions"), condition(a)], [t("alarm.statistic"), t(`stat.${stat}`)],
        [t("alarm.dimensions"), (a.Dimensions || []).map((d) => `${d.Name}=${d.Value}`).join(", ")],
        [t("alarm.actions"), (a.AlarmActions || []).join(", ")], [t("alarm.updated"), when(a.StateUpdatedTimestamp)]]),
      h("h2", {}, t("alarm.graph")),
      lineChart({ points: pts, threshold: a.Threshold, label: `${a.Namespace} ${a.MetricName} (${stat})`, bands, from, to: now }),
      bands.length ? h("p", { class: "muted", id: "alarm-bands" }, t("alarm.bandsNote", { n: bands.length })) : null,
      h("h2", {}, t("alarm.history")),
      table([{ label: t("alarm.when"), get: (x) => when(x.Timestamp) }, { label: t("alarm.type"), get: (x) => x.HistoryItemType },
        { label: t("alarm.summary"), get: (x) => x.HistorySummary }], items));
  };
  await load();
  return { refresh: load };
}

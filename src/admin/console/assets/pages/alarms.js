// CloudWatch → Alarms: list with a state filter (DescribeAlarms), delete (DeleteAlarms), and
// one alarm's page: its metric graph with the threshold line (GetMetricStatistics) and history
// (DescribeAlarmHistory). All in JSON 1.0, as current SDKs call CloudWatch.
import { cloudwatch } from "../api.js";
import { h, clear, table, state, errorBox, details, select, when } from "../dom.js";
import { t } from "../i18n.js";
import { lineChart } from "../chart.js";
import { clockNow } from "../workshop.js";

const OPS = { GreaterThanOrEqualToThreshold: ">=", GreaterThanThreshold: ">", LessThanOrEqualToThreshold: "<=", LessThanThreshold: "<" };
const condition = (a) => `${a.MetricName} ${OPS[a.ComparisonOperator] || a.ComparisonOperator} ${a.Threshold} (${a.EvaluationPeriods} × ${a.Period}s)`;
let filter = "";

export async function list(root) {
  const out = h("div");
  const holder = h("div", { id: "alarms" });
  const pick = select("StateValue", [["", t("alarm.all")], ["ALARM", t("alarm.inAlarm")], ["OK", t("alarm.ok")], ["INSUFFICIENT_DATA", t("alarm.insufficient")]], filter);
  pick.addEventListener("change", () => { filter = pick.value; load(); });
  root.append(h("h1", {}, t("nav.alarms")), h("div", { class: "toolbar" }, h("label", { for: "alarm-filter" }, t("alarm.state")), Object.assign(pick, { id: "alarm-filter" })), out, holder);
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
  root.append(h("h1", {}, t("alarm.title", { name })), body);
  const load = async () => {
    const r = await cloudwatch("DescribeAlarms", { AlarmNames: [name] });
    const a = (r.MetricAlarms || [])[0];
    if (!a) { clear(body, errorBox(t("alarm.noSuchAlarm"))); return; }
    const now = clockNow();
    const [stats, hist] = await Promise.all([
      cloudwatch("GetMetricStatistics", { Namespace: a.Namespace, MetricName: a.MetricName, Dimensions: a.Dimensions || [],
        StartTime: now - 3 * 3600, EndTime: now + 60, Period: a.Period, Statistics: [a.Statistic || "Average"] }),
      cloudwatch("DescribeAlarmHistory", { AlarmName: name }),
    ]);
    const stat = a.Statistic || "Average";
    const pts = (stats.Datapoints || []).map((d) => ({ t: Number(d.Timestamp), v: d[stat] }));
    clear(body,
      details([[t("alarm.state"), h("span", { id: "alarm-state" }, state(a.StateValue))], [t("alarm.reason"), a.StateReason],
        [t("alarm.conditions"), condition(a)], [t("alarm.statistic"), t(`stat.${stat}`)],
        [t("alarm.dimensions"), (a.Dimensions || []).map((d) => `${d.Name}=${d.Value}`).join(", ")],
        [t("alarm.actions"), (a.AlarmActions || []).join(", ")], [t("alarm.updated"), when(a.StateUpdatedTimestamp)]]),
      h("h2", {}, t("alarm.graph")),
      lineChart({ points: pts, threshold: a.Threshold, label: `${a.Namespace} ${a.MetricName} (${stat})` }),
      h("h2", {}, t("alarm.history")),
      table([{ label: t("alarm.when"), get: (x) => when(x.Timestamp) }, { label: t("alarm.type"), get: (x) => x.HistoryItemType },
        { label: t("alarm.summary"), get: (x) => x.HistorySummary }], hist.AlarmHistoryItems || []));
  };
  await load();
  return { refresh: load };
}

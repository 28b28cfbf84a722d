// CloudWatch → create or edit a metric alarm (PutMetricAlarm): the metric by namespace, name and
// dimensions (suggestions from ListMetrics), statistic, period, comparison, threshold, evaluation
// periods and an SNS topic to notify (ListTopics). Editing prefills the alarm's values and keeps
// what the form does not show (other actions such as a scaling policy, OK actions, description,
// missing-data treatment), since PutMetricAlarm replaces the whole alarm.
import { cloudwatch, sns, arr } from "../api.js";
import { h, clear, errorBox, field, input, select } from "../dom.js";
import { t } from "../i18n.js";

const OPS = [["GreaterThanOrEqualToThreshold", ">="], ["GreaterThanThreshold", ">"], ["LessThanOrEqualToThreshold", "<="], ["LessThanThreshold", "<"]];
const STATS = ["Average", "Minimum", "Maximum", "Sum", "SampleCount"];
const PERIODS = ["10", "30", "60", "300", "900", "3600"];
const KEEP = ["AlarmDescription", "ActionsEnabled", "OKActions", "InsufficientDataActions", "Unit", "DatapointsToAlarm", "TreatMissingData", "EvaluateLowSampleCountPercentile"];
const isTopic = (arn) => String(arn).startsWith("arn:aws:sns:");

/** "Name=Value, Name=Value" ⇄ [{Name, Value}]. */
const dimsText = (dims) => arr(dims).map((d) => `${d.Name}=${d.Value}`).join(", ");
const parseDims = (text) => text.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
  const at = s.indexOf("=");
  return at < 0 ? { Name: s, Value: "" } : { Name: s.slice(0, at).trim(), Value: s.slice(at + 1).trim() };
});

function datalist(id, values) {
  return h("datalist", { id }, [...new Set(values)].sort().map((v) => h("option", { value: v })));
}

/**
 * The alarm form: `alarm` is the existing alarm (edit) or undefined (create); `saved(name)` runs
 * after PutMetricAlarm succeeded.
 */
export async function alarmForm(alarm, saved) {
  const [topics, metrics] = await Promise.all([sns("ListTopics"), cloudwatch("ListMetrics", {})]);
  const a = alarm || { Namespace: "AWS/EC2", MetricName: "CPUUtilization", Statistic: "Average", Period: 300, EvaluationPeriods: 1,
    ComparisonOperator: "GreaterThanOrEqualToThreshold", Threshold: "", Dimensions: [], AlarmActions: [] };
  const ms = arr(metrics.Metrics);
  const name = input("AlarmName", a.AlarmName || "", { readonly: alarm ? true : undefined });
  const ns = input("Namespace", a.Namespace, { list: "alarm-ns-list" });
  const metric = input("MetricName", a.MetricName, { list: "alarm-metric-list" });
  const dims = input("Dimensions", dimsText(a.Dimensions), { list: "alarm-dims-list", placeholder: "InstanceId=i-…" });
  const stat = select("Statistic", STATS.map((s) => [s, t(`stat.${s}`)]), a.Statistic || "Average");
  const periods = PERIODS.includes(String(a.Period)) ? PERIODS : [...PERIODS, String(a.Period)];
  const period = select("Period", periods.map((p) => [p, PERIODS.includes(p) ? t(`period.${p}`) : `${p}s`]), String(a.Period));
  const op = select("ComparisonOperator", OPS, a.ComparisonOperator);
  const threshold = input("Threshold", a.Threshold ?? "", { type: "number", step: "any" });
  const evals = input("EvaluationPeriods", a.EvaluationPeriods ?? 1, { type: "number" });
  const actions = arr(a.AlarmActions);
  const topic = select("AlarmTopic", [["", t("common.none")], ...arr(topics.Topics).map((x) => [x.TopicArn, x.TopicArn.split(":").pop()])],
    actions.find(isTopic) || "");
  const others = actions.filter((x) => !isTopic(x));
  const out = h("div", { id: "alarm-form-result" });
  for (const [el, id] of [[name, "alarm-name"], [ns, "alarm-ns"], [metric, "alarm-metric"], [dims, "alarm-dims"], [stat, "alarm-stat"],
    [period, "alarm-period"], [op, "alarm-op"], [threshold, "alarm-threshold"], [evals, "alarm-evals"], [topic, "alarm-topic"]]) el.id = id;

  const submit = async (e) => {
    e.preventDefault();
    const req = { AlarmName: name.value, Namespace: ns.value, MetricName: metric.value, Dimensions: parseDims(dims.value),
      Statistic: stat.value, Period: Number(period.value), ComparisonOperator: op.value,
      Threshold: threshold.value === "" ? undefined : Number(threshold.value), EvaluationPeriods: Number(evals.value),
      AlarmActions: [...others, ...(topic.value ? [topic.value] : [])] };
    if (alarm) for (const k of KEEP) if (alarm[k] !== undefined) req[k] = alarm[k];
    try {
      await cloudwatch("PutMetricAlarm", req);
      await saved(name.value);
    } catch (err) { clear(out, errorBox(err)); }
  };
  return h("form", { class: "panel", id: "alarm-form", onsubmit: submit },
    h("h2", {}, alarm ? t("alarm.editTitle", { name: alarm.AlarmName }) : t("alarm.create")),
    datalist("alarm-ns-list", ms.map((m) => m.Namespace)),
    datalist("alarm-metric-list", ms.filter((m) => !ns.value || m.Namespace === ns.value).map((m) => m.MetricName)),
    datalist("alarm-dims-list", ms.map((m) => dimsText(m.Dimensions)).filter(Boolean)),
    h("div", { class: "form" },
      field(t("alarm.name"), name), field(t("metrics.namespace"), ns), field(t("metrics.name"), metric),
      field(t("alarm.dimensions"), dims, "Name=Value, …"), field(t("alarm.statistic"), stat), field(t("alarm.period"), period),
      field(t("alarm.comparison"), op), field(t("alarm.threshold"), threshold), field(t("alarm.evaluationPeriods"), evals),
      field(t("alarm.notify"), topic, others.length ? t("alarm.keptActions", { actions: others.join(", ") }) : undefined),
      h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "alarm-submit" }, alarm ? t("common.save") : t("alarm.create")))),
    out);
}

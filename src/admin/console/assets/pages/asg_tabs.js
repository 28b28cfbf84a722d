// More of an Auto Scaling group's tabs: Monitoring (the group's CPU from CloudWatch AWS/EC2 by
// AutoScalingGroupName; the AWS/AutoScaling group metrics when collected: Enable/Disable-
// MetricsCollection, GetMetricData), Tags (CreateOrUpdateTags, DeleteTags), Scheduled actions
// (Describe/PutScheduledUpdateGroupAction, DeleteScheduledAction), Lifecycle hooks
// (Describe/Put/DeleteLifecycleHook) and Instance refresh (Start/Describe/CancelInstanceRefresh).
// Each tab is (pane, group, reload, out): it draws into `pane`, reports in `out`.
import { autoscaling, cloudwatch, arr, list as members } from "../api.js";
import { h, clear, table, state, errorBox, note, field, input, select, when } from "../dom.js";
import { t } from "../i18n.js";
import { lineChart } from "../chart.js";
import { clockNow } from "../workshop.js";

/** The group metrics drawn, in the console's order (the others are collected all the same). */
const GROUP_METRICS = ["GroupDesiredCapacity", "GroupInServiceInstances", "GroupPendingInstances", "GroupTerminatingInstances",
  "GroupTotalInstances", "GroupMinSize", "GroupMaxSize"];
const ACTIVE_REFRESH = ["Pending", "InProgress"];

/** A form in a panel: its fields, a submit button, the API's error inline; `act` then reload. */
function formPanel(id, fields, submitLabel, act, load) {
  const msg = h("div");
  return h("form", { class: "panel form", id, onsubmit: async (e) => {
    e.preventDefault();
    try {
      await act();
      await load();
    } catch (err) { clear(msg, errorBox(err)); }
  } }, fields, h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: `${id}-submit` }, submitLabel), msg));
}

/** A row's Delete button: the call, then reload; a failure shown in `out`. */
const deleteButton = (call, load, out) => h("button", { class: "delete", onclick: async () => {
  try { await call(); await load(); } catch (err) { clear(out, errorBox(err)); }
} }, t("common.delete"));

const yesNo = (v) => t(v === true || v === "true" ? "asg.yes" : "asg.no");

async function metricsCharts(g) {
  const now = clockNow();
  const enabled = new Set(arr(g.EnabledMetrics).map((m) => m.Metric));
  const drawn = GROUP_METRICS.filter((m) => enabled.has(m));
  const dims = [{ Name: "AutoScalingGroupName", Value: g.AutoScalingGroupName }];
  const [cpu, group] = await Promise.all([
    cloudwatch("GetMetricStatistics", { Namespace: "AWS/EC2", MetricName: "CPUUtilization", Dimensions: dims,
      StartTime: now - 3 * 3600, EndTime: now + 60, Period: 60, Statistics: ["Average"] }),
    drawn.length ? cloudwatch("GetMetricData", { StartTime: now - 3 * 3600, EndTime: now + 60,
      MetricDataQueries: drawn.map((m, i) => ({ Id: `m${i}`, MetricStat: { Metric: { Namespace: "AWS/AutoScaling", MetricName: m, Dimensions: dims },
        Period: 60, Stat: "Average" } })) }) : { MetricDataResults: [] },
  ]);
  const cpuPts = (cpu.Datapoints || []).map((d) => ({ t: Number(d.Timestamp), v: d.Average }));
  const byId = Object.fromEntries((group.MetricDataResults || []).map((r) => [r.Id, r]));
  const groupCharts = drawn.map((m, i) => {
    const r = byId[`m${i}`] || {};
    const pts = (r.Timestamps || []).map((ts, j) => ({ t: Number(ts), v: r.Values[j] }));
    return h("div", { class: "metric", "data-metric": m }, lineChart({ points: pts, label: m, width: 400, height: 170, integer: true }));
  });
  return { cpu: lineChart({ points: cpuPts, label: t("asg.cpuGraph") }), groupCharts };
}

export const MORE_TABS = {
  async monitoring(pane, g, load, out) {
    const on = arr(g.EnabledMetrics).length > 0;
    const toggle = h("button", { id: "asg-metrics-toggle", onclick: async () => {
      try {
        await autoscaling(on ? "DisableMetricsCollection" : "EnableMetricsCollection",
          { AutoScalingGroupName: g.AutoScalingGroupName, ...(on ? {} : { Granularity: "1Minute" }) });
        await load();
      } catch (err) { clear(out, errorBox(err)); }
    } }, t(on ? "asg.disableMetrics" : "asg.enableMetrics"));
    const charts = await metricsCharts(g);
    pane.append(h("h2", {}, t("asg.cpuTitle")), h("div", { id: "asg-cpu" }, charts.cpu),
      h("h2", {}, t("asg.groupMetrics")),
      h("div", { class: "toolbar" }, h("span", { id: "asg-metrics-state" },
        on ? t("asg.metricsOn", { granularity: arr(g.EnabledMetrics)[0].Granularity }) : t("asg.metricsOff")), toggle),
      h("div", { class: "charts", id: "asg-group-metrics" }, charts.groupCharts));
  },

  async tags(pane, g, load, out) {
    const ref = (x) => ({ ResourceId: g.AutoScalingGroupName, ResourceType: "auto-scaling-group", ...x });
    const key = input("Key", "", { required: true });
    const value = input("Value");
    const propagate = h("input", { type: "checkbox", name: "PropagateAtLaunch", checked: true });
    pane.append(table([
      { label: t("asg.tagKey"), get: (x) => x.Key },
      { label: t("asg.tagValue"), get: (x) => x.Value },
      { label: t("asg.propagate"), get: (x) => yesNo(x.PropagateAtLaunch) },
      { label: "", get: (x) => deleteButton(() => autoscaling("DeleteTags", members("Tags.member", [ref({ Key: x.Key, Value: x.Value })])), load, out) },
    ], arr(g.Tags), { id: (x) => x.Key }),
    formPanel("tag-form", [field(t("asg.tagKey"), key), field(t("asg.tagValue"), value), field(t("asg.propagate"), propagate)],
      t("asg.addTag"), () => autoscaling("CreateOrUpdateTags", members("Tags.member",
        [ref({ Key: key.value, Value: value.value, PropagateAtLaunch: propagate.checked })])), load));
  },

  async scheduled(pane, g, load, out) {
    const group = g.AutoScalingGroupName;
    const r = await autoscaling("DescribeScheduledActions", { AutoScalingGroupName: group });
    // The next round hour of the virtual clock, as the datetime-local field writes it (UTC).
    const next = new Date((Math.floor(clockNow() / 3600) + 1) * 3600 * 1000).toISOString().slice(0, 16);
    const name = input("ScheduledActionName", "", { required: true });
    const desired = input("DesiredCapacity", "", { type: "number", min: 0 });
    const min = input("MinSize", "", { type: "number", min: 0 });
    const max = input("MaxSize", "", { type: "number", min: 0 });
    const recurrence = input("Recurrence", "", { placeholder: "0 9 * * 1-5" });
    const start = input("StartTime", next, { type: "datetime-local" });
    pane.append(table([
      { label: t("sched.name"), get: (a) => a.ScheduledActionName },
      { label: t("asg.desired"), get: (a) => a.DesiredCapacity ?? "" },
      { label: t("asg.min"), get: (a) => a.MinSize ?? "" },
      { label: t("asg.max"), get: (a) => a.MaxSize ?? "" },
      { label: t("sched.recurrence"), get: (a) => a.Recurrence || "" },
      { label: t("sched.start"), get: (a) => when(a.StartTime) },
      { label: "", get: (a) => deleteButton(() => autoscaling("DeleteScheduledAction", { AutoScalingGroupName: group, ScheduledActionName: a.ScheduledActionName }), load, out) },
    ], arr(r.ScheduledUpdateGroupActions), { id: (a) => a.ScheduledActionName }),
    formPanel("sched-form", [field(t("sched.name"), name), field(t("asg.desired"), desired), field(t("asg.min"), min), field(t("asg.max"), max),
      field(t("sched.recurrence"), recurrence, t("sched.cronHint")), field(t("sched.startUtc"), start)],
    t("sched.create"), () => autoscaling("PutScheduledUpdateGroupAction", { AutoScalingGroupName: group, ScheduledActionName: name.value,
      DesiredCapacity: desired.value, MinSize: min.value, MaxSize: max.value, Recurrence: recurrence.value,
      StartTime: start.value ? `${start.value}:00Z` : "" }), load));
  },

  async hooks(pane, g, load, out) {
    const group = g.AutoScalingGroupName;
    const r = await autoscaling("DescribeLifecycleHooks", { AutoScalingGroupName: group });
    const transitions = [["autoscaling:EC2_INSTANCE_LAUNCHING", t("hook.launch")], ["autoscaling:EC2_INSTANCE_TERMINATING", t("hook.terminate")]];
    const name = input("LifecycleHookName", "", { required: true });
    const transition = select("LifecycleTransition", transitions);
    const heartbeat = input("HeartbeatTimeout", "3600", { type: "number" });
    const result = select("DefaultResult", ["ABANDON", "CONTINUE"], "ABANDON");
    pane.append(table([
      { label: t("hook.name"), get: (x) => x.LifecycleHookName },
      { label: t("hook.transition"), get: (x) => (transitions.find(([v]) => v === x.LifecycleTransition) || [0, x.LifecycleTransition])[1] },
      { label: t("hook.heartbeat"), get: (x) => x.HeartbeatTimeout },
      { label: t("hook.defaultResult"), get: (x) => x.DefaultResult },
      { label: "", get: (x) => deleteButton(() => autoscaling("DeleteLifecycleHook", { AutoScalingGroupName: group, LifecycleHookName: x.LifecycleHookName }), load, out) },
    ], arr(r.LifecycleHooks), { id: (x) => x.LifecycleHookName }),
    formPanel("hook-form", [field(t("hook.name"), name), field(t("hook.transition"), transition), field(t("hook.heartbeat"), heartbeat),
      field(t("hook.defaultResult"), result)],
    t("hook.create"), () => autoscaling("PutLifecycleHook", { AutoScalingGroupName: group, LifecycleHookName: name.value,
      LifecycleTransition: transition.value, HeartbeatTimeout: heartbeat.value, DefaultResult: result.value }), load));
  },

  async refresh(pane, g, load, out) {
    const group = g.AutoScalingGroupName;
    const r = await autoscaling("DescribeInstanceRefreshes", { AutoScalingGroupName: group });
    const refreshes = arr(r.InstanceRefreshes);
    const active = refreshes.find((x) => ACTIVE_REFRESH.includes(x.Status));
    const minHealthy = input("MinHealthyPercentage", "90", { type: "number", min: 0, max: 100 });
    const warmup = input("InstanceWarmup", "", { type: "number", min: 0 });
    const skip = h("input", { type: "checkbox", name: "SkipMatching" });
    const cancel = h("button", { id: "refresh-cancel", disabled: active ? undefined : true, onclick: async () => {
      try {
        const c = await autoscaling("CancelInstanceRefresh", { AutoScalingGroupName: group });
        clear(out, note(t("refresh.cancelled", { id: c.InstanceRefreshId })));
        await load();
      } catch (err) { clear(out, errorBox(err)); }
    } }, t("refresh.cancel"));
    pane.append(h("div", { class: "toolbar" }, cancel), table([
      { label: t("refresh.id"), get: (x) => x.InstanceRefreshId },
      { label: t("refresh.status"), get: (x) => state(x.Status) },
      { label: t("refresh.progress"), get: (x) => h("span", {}, h("progress", { max: 100, value: x.PercentageComplete || 0 }), ` ${x.PercentageComplete || 0} %`) },
      { label: t("refresh.reason"), get: (x) => x.StatusReason || "" },
      { label: t("asg.start"), get: (x) => when(x.StartTime) },
      { label: t("asg.end"), get: (x) => when(x.EndTime) },
    ], refreshes, { id: (x) => x.InstanceRefreshId }),
    formPanel("refresh-form", [field(t("refresh.minHealthy"), minHealthy), field(t("refresh.warmup"), warmup), field(t("refresh.skipMatching"), skip)],
      t("refresh.start"), async () => {
        const s = await autoscaling("StartInstanceRefresh", { AutoScalingGroupName: group, "Preferences.MinHealthyPercentage": minHealthy.value,
          "Preferences.InstanceWarmup": warmup.value, "Preferences.SkipMatching": skip.checked || "" });
        clear(out, note(t("refresh.started", { id: s.InstanceRefreshId })));
      }, load));
  },
};

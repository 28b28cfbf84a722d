// The loop, live (`#/loop`, served also as /_updraft/console/loop/): one page for the projector
// showing a group's scaling loop. Everything is re-read through the AWS APIs on each change
// notice: DescribeAutoScalingGroups, DescribePolicies, DescribeScalingActivities (Auto
// Scaling), DescribeInstanceHealth (Classic ELB), DescribeTargetHealth (ELBv2),
// DescribeAlarms and GetMetricStatistics (CloudWatch). The stress buttons are the workshop's.
import { autoscaling, elb, elbv2, cloudwatch, arr } from "../api.js";
import { h, clear, state, errorBox, when, locale } from "../dom.js";
import { t } from "../i18n.js";
import { lineChart } from "../chart.js";
import { subscribe } from "../events.js";
import { stress, clockNow } from "../workshop.js";

/** The picked group (kept while the console is open). */
let picked = "";
/** Activity ids and instance ids already shown, per group: new ones are highlighted. */
const seen = new Map();

const OPS = { GreaterThanOrEqualToThreshold: "≥", GreaterThanThreshold: ">", LessThanOrEqualToThreshold: "≤", LessThanThreshold: "<" };

/** Latest average CPU of each instance (one-minute period; the last ten minutes). */
async function cpuOf(ids) {
  const now = clockNow();
  const out = {};
  await Promise.all(ids.map(async (id) => {
    const r = await cloudwatch("GetMetricStatistics", { Namespace: "AWS/EC2", MetricName: "CPUUtilization",
      Dimensions: [{ Name: "InstanceId", Value: id }], StartTime: now - 600, EndTime: now + 60, Period: 60, Statistics: ["Average"] });
    const pts = (r.Datapoints || []).sort((a, b) => Number(a.Timestamp) - Number(b.Timestamp));
    if (pts.length) out[id] = pts[pts.length - 1].Average;
  }));
  return out;
}

/** Each instance's state in each load balancer (Classic) or target group: [{name, states: {id: state}}]. */
async function balancers(g) {
  const classic = arr(g.LoadBalancerNames).map(async (name) => {
    const r = await elb("DescribeInstanceHealth", { LoadBalancerName: name });
    return { name, states: Object.fromEntries(arr(r.InstanceStates).map((s) => [s.InstanceId, s.State])) };
  });
  const groups = arr(g.TargetGroupARNs).map(async (arn) => {
    const r = await elbv2("DescribeTargetHealth", { TargetGroupArn: arn });
    const states = Object.fromEntries(arr(r.TargetHealthDescriptions).map((d) => [d.Target.Id, d.TargetHealth.State]));
    return { name: arn.split(":").pop().replace(/^targetgroup\//, "").split("/")[0], states };
  });
  return Promise.all([...classic, ...groups]);
}

/** The alarms whose actions are the group's policies, with their recent datapoints. */
async function alarmsOf(policies) {
  const names = [...new Set(policies.flatMap((p) => arr(p.Alarms).map((a) => a.AlarmName)))];
  if (!names.length) return [];
  const r = await cloudwatch("DescribeAlarms", { AlarmNames: names });
  const now = clockNow();
  return Promise.all((r.MetricAlarms || []).map(async (a) => {
    const stat = a.Statistic || "Average";
    const s = await cloudwatch("GetMetricStatistics", { Namespace: a.Namespace, MetricName: a.MetricName, Dimensions: a.Dimensions || [],
      StartTime: now - Math.max(15, 12 * a.EvaluationPeriods) * a.Period, EndTime: now + 60, Period: a.Period, Statistics: [stat] });
    return { a, points: (s.Datapoints || []).map((d) => ({ t: Number(d.Timestamp), v: d[stat] })) };
  }));
}

const fresh = (group, key) => {
  const set = seen.get(group);
  return set && !set.has(key);
};

function cpuBar(v) {
  const fill = h("div", { class: "cpu-fill" });
  // Set through the CSSOM: the console's CSP allows no inline style attribute.
  fill.style.width = `${Math.max(0, Math.min(100, v ?? 0))}%`;
  if ((v ?? 0) >= 80) fill.classList.add("hot");
  return h("div", { class: "cpu" },
    h("div", { class: "cpu-bar", role: "meter", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": v === undefined ? undefined : v.toFixed(1), "aria-label": "CPUUtilization" }, fill),
    h("span", { class: "cpu-value" }, v === undefined ? t("loop.noData") : `${v.toLocaleString(locale(), { maximumFractionDigits: 1 })} %`));
}

function card(i, g, cpu, lbs, out) {
  const act = (pct, key, label) => h("button", { "data-act": key, onclick: async () => {
    try { await stress(i.InstanceId, pct); clear(out); } catch (err) { clear(out, errorBox(err)); }
  } }, label);
  return h("div", { class: `loop-card${fresh(g, i.InstanceId) ? " fresh" : ""}`, "data-id": i.InstanceId },
    h("div", { class: "loop-card-head" }, h("a", { href: `#/ec2/instances/${i.InstanceId}` }, i.InstanceId)),
    h("div", { class: "muted" }, i.AvailabilityZone),
    h("div", { class: "lifecycle" }, state(i.LifecycleState)),
    h("div", {}, h("span", { class: "muted" }, `${t("asg.health")}: `), i.HealthStatus),
    lbs.map((lb) => h("div", { class: "lb-state" }, h("span", { class: "muted" }, `${lb.name}: `), lb.states[i.InstanceId] ? state(lb.states[i.InstanceId]) : "-")),
    cpuBar(cpu[i.InstanceId]),
    h("div", { class: "toolbar" }, act(100, "stress", t("ec2.stress")), act(0, "unstress", t("ec2.unstress"))));
}

function alarmBox({ a, points }) {
  const op = OPS[a.ComparisonOperator] || a.ComparisonOperator;
  return h("div", { class: `loop-alarm alarm-${a.StateValue}`, "data-alarm": a.AlarmName },
    h("div", { class: "loop-card-head" }, h("a", { href: `#/cw/alarms/${encodeURIComponent(a.AlarmName)}` }, a.AlarmName), " ", state(a.StateValue)),
    h("div", { class: "muted" }, `${a.MetricName} ${op} ${a.Threshold} (${a.EvaluationPeriods} × ${a.Period}s)`),
    lineChart({ points, threshold: a.Threshold, width: 320, height: 150, label: `${a.MetricName} (${t(`stat.${a.Statistic || "Average"}`)})` }));
}

export async function page(root) {
  const pick = h("select", { id: "loop-group", "aria-label": t("loop.group") });
  const clock = h("span", { id: "loop-clock", class: "clock" });
  const out = h("div");
  const problem = h("div");
  const body = h("div", { id: "loop" });
  root.append(h("div", { class: "loop-top" }, h("h1", {}, t("loop.title")),
    h("label", { for: "loop-group" }, t("loop.group")), pick,
    h("span", { class: "muted" }, t("workshop.clock")), clock), out, problem, body);
  pick.addEventListener("change", () => { picked = pick.value; safeRefresh(); });
  const tick = () => { clock.textContent = new Date(clockNow() * 1000).toLocaleString(locale()); };
  // Every notice carries the virtual time (the workshop bar, subscribed first, has taken it).
  const unsubscribe = subscribe(() => tick());

  const load = async () => {
    const r = await autoscaling("DescribeAutoScalingGroups");
    const groups = arr(r.AutoScalingGroups);
    if (!groups.some((g) => g.AutoScalingGroupName === picked)) picked = groups.length ? groups[0].AutoScalingGroupName : "";
    // Rebuilt only when the groups change: an open picker stays open through live updates.
    const names = groups.map((g) => g.AutoScalingGroupName);
    if (names.join("\n") !== [...pick.options].map((o) => o.value).join("\n")) clear(pick, names.map((n) => h("option", { value: n }, n)));
    pick.value = picked;
    tick();
    const g = groups.find((x) => x.AutoScalingGroupName === picked);
    if (!g) { clear(body, h("p", { class: "muted", id: "loop-empty" }, t("loop.noGroups"))); return; }
    const name = g.AutoScalingGroupName;
    const instances = arr(g.Instances).sort((a, b) => a.InstanceId.localeCompare(b.InstanceId));
    const [pol, acts, lbs, cpu] = await Promise.all([
      autoscaling("DescribePolicies", { AutoScalingGroupName: name }),
      autoscaling("DescribeScalingActivities", { AutoScalingGroupName: name, MaxRecords: 12 }),
      balancers(g),
      cpuOf(instances.map((i) => i.InstanceId)),
    ]);
    const policies = arr(pol.ScalingPolicies);
    const alarms = await alarmsOf(policies);
    const activities = arr(acts.Activities);
    clear(body, h("div", { class: "loop-main" },
      h("section", { class: "loop-row" },
        h("div", { class: "panel loop-size", id: "loop-size" }, h("h2", {}, name),
          [["desired", t("asg.desired"), g.DesiredCapacity], ["min", t("asg.min"), g.MinSize], ["max", t("asg.max"), g.MaxSize]].map(([k, label, v]) =>
            h("div", { class: "big-number", "data-size": k }, h("span", { class: "muted" }, label), h("strong", {}, String(v))))),
        h("div", { class: "panel loop-lbs", id: "loop-lbs" }, h("h2", {}, t("asg.lbs")),
          lbs.length ? lbs.map((lb) => h("div", { class: "lb", "data-lb": lb.name }, h("strong", {}, lb.name),
            h("ul", {}, Object.entries(lb.states).map(([id, s]) => h("li", {}, `${id} `, state(s))))))
            : h("p", { class: "muted" }, t("loop.noLbs")))),
      h("h2", {}, t("asg.tab.instances")),
      h("div", { class: "loop-cards", id: "loop-instances" },
        instances.length ? instances.map((i) => card(i, name, cpu, lbs, out)) : h("p", { class: "muted" }, t("common.empty"))),
      h("div", { class: "loop-alarms", id: "loop-alarms" }, h("h2", {}, t("nav.alarms")),
        alarms.length ? h("div", { class: "charts" }, alarms.map(alarmBox)) : h("p", { class: "muted" }, t("loop.noAlarms")))),
    h("div", { class: "loop-side" },
        h("div", { class: "panel", id: "loop-policies" }, h("h2", {}, t("asg.tab.policies")),
          policies.length ? h("ul", {}, policies.map((p) => h("li", { "data-policy": p.PolicyName }, h("strong", {}, p.PolicyName), " ",
            h("span", { class: "muted" }, p.PolicyType === "TargetTrackingScaling" ? p.PolicyType : `${p.AdjustmentType || ""} ${Number(p.ScalingAdjustment) > 0 ? "+" : ""}${p.ScalingAdjustment ?? ""}`),
            arr(p.Alarms).length ? ` ← ${arr(p.Alarms).map((a) => a.AlarmName).join(", ")}` : "")))
            : h("p", { class: "muted" }, t("common.empty"))),
      h("h2", {}, t("asg.tab.activity")),
      h("ol", { class: "loop-feed", id: "loop-activity" }, activities.map((a) =>
        h("li", { class: fresh(name, a.ActivityId) ? "fresh" : "", "data-activity": a.ActivityId },
          h("div", {}, state(a.StatusCode), " ", h("strong", {}, a.Description), " ", h("span", { class: "muted" }, when(a.StartTime))),
          h("div", { class: "cause" }, a.Cause))))));
    // What is on screen now is no longer new on the next refresh.
    seen.set(name, new Set([...activities.map((a) => a.ActivityId), ...instances.map((i) => i.InstanceId)]));
  };

  // One load at a time; a notice during a load asks for one more after it.
  let running = null;
  let again = false;
  async function refresh() {
    if (running) { again = true; return running; }
    running = (async () => {
      try {
        do {
          again = false;
          await load();
          clear(problem);
        } while (again);
      } finally { running = null; }
    })();
    return running;
  }
  const safeRefresh = () => refresh().catch((err) => clear(problem, errorBox(err)));
  await refresh();
  return {
    refresh: safeRefresh,
    dispose: unsubscribe,
  };
}

// Auto Scaling → Groups: list (DescribeAutoScalingGroups) and one group's tabs: Details (edit
// size / launch configuration: UpdateAutoScalingGroup), Activity history
// (DescribeScalingActivities), Scaling policies (DescribePolicies, ExecutePolicy, DeletePolicy;
// a simple-scaling policy is edited with PutScalingPolicy, which keeps its ARN and alarms),
// Instances, Notifications (DescribeNotificationConfigurations); the other tabs are in
// asg_tabs.js.
import { autoscaling, ec2, arr } from "../api.js";
import { h, clear, table, state, errorBox, note, field, input, select, tabs, details, when, keepEdits, editing } from "../dom.js";
import { t } from "../i18n.js";
import { go } from "../router.js";
import { MORE_TABS } from "./asg_tabs.js";

/** What a group launches from: its launch configuration, or template name and version. */
const launchSource = (g) => g.LaunchConfigurationName
  || (g.LaunchTemplate ? `${g.LaunchTemplate.LaunchTemplateName} (${t("lt.version")} ${g.LaunchTemplate.Version})` : "");
/** The console's old tab order, then Instance refresh. */
const TAB_KEYS = ["details", "activity", "policies", "instances", "monitoring", "notifications", "tags", "scheduled", "hooks", "refresh"];

export async function list(root) {
  const holder = h("div", { id: "asgs" });
  root.append(h("h1", {}, t("nav.asgs")),
    h("div", { class: "toolbar" }, h("button", { class: "primary", id: "asg-new", onclick: () => go("/asg/groups/new") }, t("asg.create"))), holder);
  const load = async () => {
    const r = await autoscaling("DescribeAutoScalingGroups");
    clear(holder, table([
      { label: t("asg.name"), get: (g) => h("a", { href: `#/asg/groups/${encodeURIComponent(g.AutoScalingGroupName)}` }, g.AutoScalingGroupName) },
      { label: t("asg.launchSource"), get: launchSource },
      { label: t("asg.instances"), get: (g) => String(arr(g.Instances).length) },
      { label: t("asg.desired"), get: (g) => g.DesiredCapacity },
      { label: t("asg.min"), get: (g) => g.MinSize },
      { label: t("asg.max"), get: (g) => g.MaxSize },
      { label: t("ec2.az"), get: (g) => arr(g.AvailabilityZones).join(", ") },
    ], arr(r.AutoScalingGroups), { id: (g) => g.AutoScalingGroupName }));
  };
  await load();
  return { refresh: load };
}

let tab = "details";
export async function detail(root, { name }) {
  const out = h("div");
  const body = h("div");
  root.append(h("h1", {}, t("asg.title", { name })), out, body);
  // Loads overlap (a tab click while a change notice's reload is in flight): only the newest
  // draws. The tab is drawn off the page and swapped in whole, so a form never stands empty
  // between two renders; a reload for a change notice leaves alone a form the user is typing
  // in and draws again when the field loses the focus.
  let latest = 0;
  // A form someone has changed is theirs until they submit it or change tabs (dom.js).
  keepEdits(body);
  const load = async (quiet) => {
    const mine = ++latest;
    const r = await autoscaling("DescribeAutoScalingGroups", { "AutoScalingGroupNames.member.1": name });
    if (mine !== latest) return;
    const g = arr(r.AutoScalingGroups)[0];
    if (!g) { clear(body, errorBox(t("asg.noSuchGroup"))); return; }
    const pane = h("div", { id: `asg-${tab}` });
    const bar = tabs(TAB_KEYS.map((k) => ({ key: k, label: t(`asg.tab.${k}`) })), tab, (k) => { tab = k; load(); });
    await TABS[tab](pane, g, load, out);
    if (mine !== latest) return;
    if (quiet === true && editing(body)) {
      body.addEventListener("focusout", () => setTimeout(() => load(true), 0), { once: true });
      return;
    }
    clear(body, bar, pane);
  };
  await load();
  return { refresh: () => load(true) };
}

const TABS = {
  async details(pane, g, load, out) {
    const [lcs, lts] = await Promise.all([autoscaling("DescribeLaunchConfigurations"), ec2("DescribeLaunchTemplates")]);
    // One picker for both kinds; a template keeps its version unless another template is picked.
    const current = g.LaunchTemplate ? `lt:${g.LaunchTemplate.LaunchTemplateId}` : `lc:${g.LaunchConfigurationName}`;
    const lc = select("LaunchSource", [
      ...arr(lcs.LaunchConfigurations).map((c) => [`lc:${c.LaunchConfigurationName}`, c.LaunchConfigurationName]),
      ...arr(lts.launchTemplates).map((x) => [`lt:${x.launchTemplateId}`, `${x.launchTemplateName} (${t("nav.lts")})`]),
    ], current);
    const source = () => {
      if (lc.value === current) return {};
      const [kind, v] = [lc.value.slice(0, 2), lc.value.slice(3)];
      return kind === "lc" ? { LaunchConfigurationName: v } : { "LaunchTemplate.LaunchTemplateId": v, "LaunchTemplate.Version": "$Default" };
    };
    const desired = input("DesiredCapacity", g.DesiredCapacity, { type: "number" });
    const min = input("MinSize", g.MinSize, { type: "number" });
    const max = input("MaxSize", g.MaxSize, { type: "number" });
    const msg = h("div");
    pane.append(details([[t("asg.name"), g.AutoScalingGroupName], [t("asg.launchSource"), launchSource(g)],
      [t("ec2.az"), arr(g.AvailabilityZones).join(", ")], [t("asg.lbs"), arr(g.LoadBalancerNames).join(", ")],
      [t("asg.hcType"), g.HealthCheckType], [t("asg.grace"), g.HealthCheckGracePeriod], [t("asg.cooldown"), g.DefaultCooldown],
      [t("asg.created"), when(g.CreatedTime)]]),
    h("form", { class: "panel form", id: "asg-edit", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await autoscaling("UpdateAutoScalingGroup", { AutoScalingGroupName: g.AutoScalingGroupName, ...source(),
          DesiredCapacity: desired.value, MinSize: min.value, MaxSize: max.value });
        clear(out, note(t("asg.updated")));
        await load();
      } catch (err) { clear(msg, errorBox(err)); }
    } }, field(t("asg.launchSource"), lc), field(t("asg.desired"), desired), field(t("asg.min"), min), field(t("asg.max"), max),
    h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "asg-save" }, t("common.save")), msg)));
  },
  async activity(pane, g) {
    const r = await autoscaling("DescribeScalingActivities", { AutoScalingGroupName: g.AutoScalingGroupName });
    pane.append(table([
      { label: t("asg.status"), get: (a) => state(a.StatusCode) },
      { label: t("asg.description"), get: (a) => a.Description },
      { label: t("asg.cause"), get: (a) => h("span", { class: "cause" }, a.Cause) },
      { label: t("asg.start"), get: (a) => when(a.StartTime) },
      { label: t("asg.end"), get: (a) => when(a.EndTime) },
    ], arr(r.Activities)));
  },
  async policies(pane, g, load, out) {
    const r = await autoscaling("DescribePolicies", { AutoScalingGroupName: g.AutoScalingGroupName });
    const editor = h("div", { id: "policy-editor" });
    pane.append(table([
      { label: t("asg.policyName"), get: (p) => p.PolicyName },
      { label: t("asg.policyType"), get: (p) => p.PolicyType || "SimpleScaling" },
      { label: t("asg.adjustment"), get: (p) => `${p.AdjustmentType || ""} ${p.ScalingAdjustment ?? ""}` },
      { label: t("asg.alarms"), get: (p) => arr(p.Alarms).map((a) => a.AlarmName).join(", ") },
      { label: t("asg.cooldown"), get: (p) => p.Cooldown || "" },
      { label: "", get: (p) => h("div", { class: "toolbar" },
        h("button", { onclick: async () => {
          try { await autoscaling("ExecutePolicy", { AutoScalingGroupName: g.AutoScalingGroupName, PolicyName: p.PolicyName, HonorCooldown: true }); clear(out, note(t("asg.executed", { name: p.PolicyName }))); }
          catch (err) { clear(out, errorBox(err)); }
        } }, t("asg.execute")),
        (p.PolicyType || "SimpleScaling") === "SimpleScaling"
          ? h("button", { class: "edit-policy", onclick: () => clear(editor, policyForm(g, p, load, out)) }, t("common.edit"))
          : "",
        h("button", { onclick: async () => {
          try { await autoscaling("DeletePolicy", { AutoScalingGroupName: g.AutoScalingGroupName, PolicyName: p.PolicyName }); await load(); }
          catch (err) { clear(out, errorBox(err)); }
        } }, t("common.delete"))) },
    ], arr(r.ScalingPolicies)), editor);
  },
  async instances(pane, g) {
    pane.append(table([
      { label: t("ec2.instanceId"), get: (i) => h("a", { href: `#/ec2/instances/${i.InstanceId}` }, i.InstanceId) },
      { label: t("asg.lifecycle"), get: (i) => state(i.LifecycleState) },
      { label: t("asg.health"), get: (i) => i.HealthStatus },
      { label: t("ec2.az"), get: (i) => i.AvailabilityZone },
      { label: t("asg.launchSource"), get: launchSource },
    ], arr(g.Instances), { id: (i) => i.InstanceId }));
  },
  async notifications(pane, g) {
    const r = await autoscaling("DescribeNotificationConfigurations", { "AutoScalingGroupNames.member.1": g.AutoScalingGroupName });
    pane.append(table([
      { label: t("sns.topic"), get: (n) => n.TopicARN },
      { label: t("asg.notificationType"), get: (n) => n.NotificationType },
    ], arr(r.NotificationConfigurations)));
  },
  ...MORE_TABS,
};

/** Edit a simple-scaling policy in place: PutScalingPolicy under the same name. */
function policyForm(g, p, load, out) {
  const kind = select("AdjustmentType", ["ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"], p.AdjustmentType || "ChangeInCapacity");
  const by = input("ScalingAdjustment", p.ScalingAdjustment ?? 1, { type: "number" });
  const cooldown = input("Cooldown", p.Cooldown ?? "", { type: "number" });
  const msg = h("div");
  return h("div", { id: "policy-edit" }, h("h2", {}, t("asg.editPolicy", { name: p.PolicyName })), h("form", { class: "panel form", onsubmit: async (e) => {
    e.preventDefault();
    const params = { AutoScalingGroupName: g.AutoScalingGroupName, PolicyName: p.PolicyName, PolicyType: "SimpleScaling",
      AdjustmentType: kind.value, ScalingAdjustment: by.value };
    if (cooldown.value !== "") params.Cooldown = cooldown.value;
    try {
      await autoscaling("PutScalingPolicy", params);
      clear(out, note(t("asg.policySaved", { name: p.PolicyName })));
      await load();
    } catch (err) { clear(msg, errorBox(err)); }
  } }, field(t("asg.adjustmentType"), kind), field(t("asg.adjustment"), by), field(t("asg.cooldown"), cooldown),
  h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "policy-save" }, t("common.save")), msg)));
}

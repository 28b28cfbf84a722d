// Auto Scaling → Create Auto Scaling group, as the chapter's wizard does it: group details
// (CreateAutoScalingGroup with a launch configuration or a launch template version, size, AZs,
// Classic load balancers and ALB target groups, health check), then either the
// "Increase/Decrease Group Size" policies with their alarms created inline (PutScalingPolicy +
// CloudWatch PutMetricAlarm) or one target tracking policy (PutScalingPolicy, whose alarms Auto
// Scaling makes), and notifications to a new or existing topic (SNS CreateTopic + Subscribe,
// PutNotificationConfiguration). A failure says which calls ran.
import { autoscaling, cloudwatch, elb, elbv2, ec2, sns, arr, list as members, steps } from "../api.js";
import { h, clear, errorBox, field, input, select } from "../dom.js";
import { t } from "../i18n.js";
import { go } from "../router.js";

const TYPES = ["autoscaling:EC2_INSTANCE_LAUNCH", "autoscaling:EC2_INSTANCE_TERMINATE", "autoscaling:EC2_INSTANCE_LAUNCH_ERROR", "autoscaling:EC2_INSTANCE_TERMINATE_ERROR"];
const OPS = [["GreaterThanOrEqualToThreshold", ">="], ["GreaterThanThreshold", ">"], ["LessThanOrEqualToThreshold", "<="], ["LessThanThreshold", "<"]];
const STATS = ["Average", "Minimum", "Maximum", "Sum", "SampleCount"];
const TRACKED = ["ASGAverageCPUUtilization", "ASGAverageNetworkIn", "ASGAverageNetworkOut"];

/** The target tracking policy's fields: name, predefined metric, target value, warm-up, scale-in. */
function trackingFields() {
  const f = {
    name: input("TrackingPolicyName", "Target Tracking Policy"),
    metric: select("PredefinedMetricType", TRACKED.map((m) => [m, t(`asg.tt.${m}`)])),
    target: input("TargetValue", "50", { type: "number", step: "any" }),
    warmup: input("EstimatedInstanceWarmup", "300", { type: "number" }),
    noScaleIn: h("input", { type: "checkbox", name: "DisableScaleIn" }),
  };
  f.node = h("fieldset", { id: "tracking-policy", disabled: true }, h("legend", {}, t("asg.tt.title")), h("div", { class: "form" },
    field(t("asg.policyName"), f.name), field(t("asg.tt.metric"), f.metric), field(t("asg.tt.target"), f.target),
    field(t("asg.tt.warmup"), f.warmup), field(t("asg.tt.disableScaleIn"), f.noScaleIn)));
  f.params = (group) => ({ AutoScalingGroupName: group, PolicyName: f.name.value, PolicyType: "TargetTrackingScaling",
    EstimatedInstanceWarmup: f.warmup.value, "TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType": f.metric.value,
    "TargetTrackingConfiguration.TargetValue": f.target.value, "TargetTrackingConfiguration.DisableScaleIn": String(f.noScaleIn.checked) });
  return f;
}

function policyFields(prefix, d) {
  // The 2014 wizard's default policy names: resource names, so not translated.
  const f = {
    name: input(`${prefix}PolicyName`, d.policyName),
    adjust: input(`${prefix}Adjustment`, d.adjust, { type: "number" }),
    alarm: input(`${prefix}AlarmName`),
    stat: select(`${prefix}Statistic`, STATS.map((s) => [s, t(`stat.${s}`)]), "Average"),
    op: select(`${prefix}Comparison`, OPS, d.op),
    threshold: input(`${prefix}Threshold`, d.threshold, { type: "number" }),
    evals: input(`${prefix}EvaluationPeriods`, "1", { type: "number", min: 1 }),
    period: select(`${prefix}Period`, [["60", t("period.60")], ["300", t("period.300")], ["900", t("period.900")], ["3600", t("period.3600")]], "60"),
  };
  f.node = h("fieldset", { id: `${prefix}-policy` }, h("legend", {}, t(d.titleKey)), h("div", { class: "form" },
    field(t("asg.policyName"), f.name), field(t(d.adjustKey), f.adjust),
    field(t("alarm.name"), f.alarm), field(t("alarm.statistic"), f.stat), field(t("alarm.comparison"), f.op),
    field(t("alarm.threshold"), f.threshold, "CPUUtilization %"), field(t("alarm.evaluationPeriods"), f.evals), field(t("alarm.period"), f.period)));
  return f;
}

/**
 * The launch source: a launch configuration (the chapter's way) or a launch template with its
 * version ($Default, $Latest or a number). The picker of the kind not chosen is disabled.
 */
function launchSource(lcCount, templates, lc) {
  const kind = (v, checked) => h("label", {}, h("input", { type: "radio", name: "LaunchSource", value: v, checked }), ` ${t(v === "lc" ? "nav.lcs" : "nav.lts")} `);
  const kinds = [kind("lc", lcCount > 0 || !templates.length), kind("lt", lcCount === 0 && templates.length > 0)];
  const lt = select("LaunchTemplateId", templates.map((x) => [x.launchTemplateId, `${x.launchTemplateName} (${x.launchTemplateId})`]));
  const version = select("LaunchTemplateVersion", []);
  const versions = () => {
    const x = templates.find((y) => y.launchTemplateId === lt.value);
    const numbers = x ? Array.from({ length: Number(x.latestVersionNumber) }, (_, i) => String(i + 1)) : [];
    clear(version, [["$Default", t("lt.versionDefault")], ["$Latest", t("lt.versionLatest")], ...numbers.map((n) => [n, n])]
      .map(([v, l]) => h("option", { value: v }, l)));
  };
  const useLt = () => kinds[1].querySelector("input").checked;
  const sync = () => { lc.disabled = useLt(); lt.disabled = version.disabled = !useLt(); };
  lt.addEventListener("change", versions);
  kinds.forEach((k) => k.querySelector("input").addEventListener("change", sync));
  versions();
  sync();
  return {
    params: () => (useLt() ? { "LaunchTemplate.LaunchTemplateId": lt.value, "LaunchTemplate.Version": version.value } : { LaunchConfigurationName: lc.value }),
    nodes: [field(t("asg.sourceKind"), h("div", { id: "asg-source" }, kinds)), field(t("nav.lcs"), lc), field(t("nav.lts"), lt), field(t("lt.version"), version)],
  };
}

export async function page(root) {
  const [lcs, lbs, azr, topics, lts, tgs] = await Promise.all([autoscaling("DescribeLaunchConfigurations"), elb("DescribeLoadBalancers"),
    ec2("DescribeAvailabilityZones"), sns("ListTopics"), ec2("DescribeLaunchTemplates"), elbv2("DescribeTargetGroups")]);
  const name = input("AutoScalingGroupName", "", { required: true });
  const lcNames = arr(lcs.LaunchConfigurations).map((c) => c.LaunchConfigurationName);
  const lc = select("LaunchConfigurationName", lcNames);
  const source = launchSource(lcNames.length, arr(lts.launchTemplates), lc);
  const min = input("MinSize", "1", { type: "number" });
  const max = input("MaxSize", "1", { type: "number" });
  const desired = input("DesiredCapacity", "1", { type: "number" });
  const azBoxes = arr(azr.availabilityZoneInfo).map((z, i) => h("label", {}, h("input", { type: "checkbox", name: "AvailabilityZones", value: z.zoneName, checked: i < 2 }), ` ${z.zoneName} `));
  const lbBoxes = arr(lbs.LoadBalancerDescriptions).map((b) => h("label", {}, h("input", { type: "checkbox", name: "LoadBalancerNames", value: b.LoadBalancerName }), ` ${b.LoadBalancerName} `));
  const tgBoxes = arr(tgs.TargetGroups).map((g) => h("label", {}, h("input", { type: "checkbox", name: "TargetGroupARNs", value: g.TargetGroupArn }), ` ${g.TargetGroupName} `));
  const hcType = select("HealthCheckType", ["EC2", "ELB"], "EC2");
  const grace = input("HealthCheckGracePeriod", "300", { type: "number" });
  const usePolicies = h("input", { type: "checkbox", name: "UsePolicies", checked: true });
  const inc = policyFields("increase", { policyName: "Increase Group Size", titleKey: "asg.increase", adjustKey: "asg.add", adjust: "1", op: "GreaterThanOrEqualToThreshold", threshold: "80" });
  const dec = policyFields("decrease", { policyName: "Decrease Group Size", titleKey: "asg.decrease", adjustKey: "asg.remove", adjust: "1", op: "LessThanOrEqualToThreshold", threshold: "5" });
  const tracking = trackingFields();
  const kindBox = (v, on) => h("label", {}, h("input", { type: "radio", name: "PolicyKind", value: v, checked: on }), ` ${t(`asg.kind.${v}`)} `);
  const kinds = [kindBox("simple", true), kindBox("target", false)];
  const useTracking = () => kinds[1].querySelector("input").checked;
  // Unticked: the policy fields are disabled (and so not sent or validated); the kind not
  // chosen is disabled too.
  const sync = () => {
    inc.node.disabled = dec.node.disabled = !usePolicies.checked || useTracking();
    tracking.node.disabled = !usePolicies.checked || !useTracking();
  };
  usePolicies.addEventListener("change", sync);
  kinds.forEach((k) => k.querySelector("input").addEventListener("change", sync));
  const notify = h("input", { type: "checkbox", name: "AddNotification" });
  const topic = select("TopicChoice", [["new", t("asg.newTopic")], ...arr(topics.Topics).map((x) => [x.TopicArn, x.TopicArn])], "new");
  const topicName = input("TopicName");
  const email = input("Email", "", { type: "email" });
  const typeBoxes = TYPES.map((x) => h("label", {}, h("input", { type: "checkbox", name: "NotificationTypes", value: x, checked: true }), ` ${t(`notify.${x}`)}`, h("br")));
  const out = h("div");
  const checked = (boxes) => boxes.map((b) => b.querySelector("input")).filter((x) => x.checked).map((x) => x.value);

  const submit = async (e) => {
    e.preventDefault();
    clear(out);
    const group = name.value;
    const plan = [["CreateAutoScalingGroup", () => autoscaling("CreateAutoScalingGroup", {
      AutoScalingGroupName: group, ...source.params(), MinSize: min.value, MaxSize: max.value, DesiredCapacity: desired.value,
      HealthCheckType: hcType.value, HealthCheckGracePeriod: grace.value,
      ...members("AvailabilityZones.member", checked(azBoxes)), ...members("LoadBalancerNames.member", checked(lbBoxes)),
      ...members("TargetGroupARNs.member", checked(tgBoxes)) })]];
    if (usePolicies.checked && useTracking()) {
      plan.push([`PutScalingPolicy (${tracking.name.value})`, () => autoscaling("PutScalingPolicy", tracking.params(group))]);
    } else if (usePolicies.checked) {
      for (const [f, sign] of [[inc, 1], [dec, -1]]) {
        let arn;
        plan.push([`PutScalingPolicy (${f.name.value})`, async () => {
          const r = await autoscaling("PutScalingPolicy", { AutoScalingGroupName: group, PolicyName: f.name.value,
            AdjustmentType: "ChangeInCapacity", ScalingAdjustment: sign * Math.abs(Number(f.adjust.value)) });
          arn = r.PolicyARN;
        }]);
        plan.push([`PutMetricAlarm (${f.alarm.value})`, () => cloudwatch("PutMetricAlarm", {
          AlarmName: f.alarm.value, Namespace: "AWS/EC2", MetricName: "CPUUtilization",
          Dimensions: [{ Name: "AutoScalingGroupName", Value: group }], Statistic: f.stat.value, Period: Number(f.period.value),
          EvaluationPeriods: Number(f.evals.value), Threshold: Number(f.threshold.value), ComparisonOperator: f.op.value, AlarmActions: [arn] })]);
      }
    }
    if (notify.checked) {
      let arn = topic.value;
      if (arn === "new") {
        plan.push(["CreateTopic", async () => { arn = (await sns("CreateTopic", { Name: topicName.value })).TopicArn; }]);
      }
      if (email.value) plan.push(["Subscribe", () => sns("Subscribe", { TopicArn: arn, Protocol: "email", Endpoint: email.value })]);
      plan.push(["PutNotificationConfiguration", () => autoscaling("PutNotificationConfiguration", {
        AutoScalingGroupName: group, TopicARN: arn, ...members("NotificationTypes.member", checked(typeBoxes)) })]);
    }
    try {
      await steps(plan);
      go(`/asg/groups/${encodeURIComponent(group)}`);
    } catch (err) { clear(out, errorBox(err)); }
  };

  root.append(h("h1", {}, t("asg.create")),
    h("form", { id: "asg-form", onsubmit: submit },
      h("fieldset", {}, h("legend", {}, t("asg.step.details")), h("div", { class: "form" },
        field(t("asg.name"), name), source.nodes, field(t("asg.desired"), desired), field(t("asg.min"), min), field(t("asg.max"), max),
        field(t("ec2.az"), h("div", {}, azBoxes)), field(t("asg.lbs"), h("div", {}, lbBoxes.length ? lbBoxes : t("common.empty"))),
        field(t("nav.tgs"), h("div", { id: "asg-tgs" }, tgBoxes.length ? tgBoxes : t("common.empty"))),
        field(t("asg.hcType"), hcType), field(t("asg.grace"), grace))),
      h("fieldset", {}, h("legend", {}, t("asg.step.policies")), h("div", { class: "form" }, field(t("asg.usePolicies"), usePolicies),
        field(t("asg.policyType"), h("div", { id: "asg-policy-kind" }, kinds))), inc.node, dec.node, tracking.node),
      h("fieldset", {}, h("legend", {}, t("asg.step.notifications")), h("div", { class: "form" },
        field(t("asg.addNotification"), notify), field(t("sns.topic"), topic), field(t("asg.topicName"), topicName),
        field(t("asg.email"), email), field(t("asg.whenever"), h("div", {}, typeBoxes)))),
      h("div", { class: "toolbar" }, h("button", { class: "primary", type: "submit", id: "asg-submit" }, t("asg.create"))),
      out));
}

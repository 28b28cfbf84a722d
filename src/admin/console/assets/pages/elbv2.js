// Load balancers → Application load balancers and target groups (ELBv2): lists
// (DescribeLoadBalancers, DescribeListeners, DescribeTargetGroups, DescribeTargetHealth), create
// a target group (CreateTargetGroup) and register instances (RegisterTargets), create an ALB with
// an HTTP listener forwarding to a group (CreateLoadBalancer + CreateListener, reporting which
// calls succeeded). Selecting a load balancer shows its listeners and rules (elbv2_rules.js).
import { ec2, elbv2, arr, list as members, steps } from "../api.js";
import { h, clear, table, state, errorBox, note, field, input, select } from "../dom.js";
import { t } from "../i18n.js";
import { describeInstances } from "./instances.js";
import { tag } from "../api.js";
import { listenersPanel } from "./elbv2_rules.js";

const checked = (boxes) => boxes.map((b) => b.querySelector("input")).filter((x) => x.checked).map((x) => x.value);
const box = (name, value, label, on) => h("label", {}, h("input", { type: "checkbox", name, value, checked: on }), ` ${label} `);

let selectedAlb = null;
export async function albs(root) {
  const [subnets, sgs, tgs] = await Promise.all([ec2("DescribeSubnets"), ec2("DescribeSecurityGroups"), elbv2("DescribeTargetGroups")]);
  const out = h("div");
  const holder = h("div", { id: "albs" });
  const detail = h("div");
  let panel = null;
  const name = input("Name", "", { required: true });
  const subnetBoxes = arr(subnets.subnetSet).map((s, i) => box("Subnets", s.subnetId, `${s.subnetId} (${s.availabilityZone})`, i < 2));
  const sg = select("SecurityGroups", [["", t("common.none")], ...arr(sgs.securityGroupInfo).map((g) => [g.groupId, `${g.groupName} (${g.groupId})`])]);
  const tg = select("TargetGroupArn", arr(tgs.TargetGroups).map((g) => [g.TargetGroupArn, g.TargetGroupName]));
  const port = input("Port", "80", { type: "number" });
  root.append(h("h1", {}, t("nav.alb")),
    h("form", { class: "panel form", id: "alb-form", onsubmit: async (e) => {
      e.preventDefault();
      let arn;
      try {
        await steps([
          ["CreateLoadBalancer", async () => {
            const r = await elbv2("CreateLoadBalancer", { Name: name.value, Type: "application", ...members("Subnets.member", checked(subnetBoxes)),
              ...(sg.value ? { "SecurityGroups.member.1": sg.value } : {}) });
            arn = arr(r.LoadBalancers)[0].LoadBalancerArn;
          }],
          ["CreateListener", () => elbv2("CreateListener", { LoadBalancerArn: arn, Protocol: "HTTP", Port: port.value,
            "DefaultActions.member.1.Type": "forward", "DefaultActions.member.1.TargetGroupArn": tg.value })],
        ]);
        clear(out, note(t("alb.created", { name: name.value })));
        await load();
      } catch (err) { clear(out, errorBox(err)); }
    } }, field(t("alb.name"), name), field(t("alb.subnets"), h("div", {}, subnetBoxes)), field(t("ec2.secgroups"), sg),
    field(t("alb.listenerPort"), port), field(t("alb.forwardTo"), tg),
    h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "alb-submit" }, t("alb.create")))),
    out, holder, detail);
  const load = async () => {
    const r = await elbv2("DescribeLoadBalancers");
    const lbs = arr(r.LoadBalancers);
    const listeners = await Promise.all(lbs.map((b) => elbv2("DescribeListeners", { LoadBalancerArn: b.LoadBalancerArn })));
    clear(holder, table([
      { label: t("alb.name"), get: (b) => b.LoadBalancerName },
      { label: t("elb.dns"), get: (b) => h("a", { href: `http://${b.DNSName}:${location.port || 80}/`, target: "_blank", rel: "noopener" }, b.DNSName) },
      { label: t("alb.state"), get: (b) => state(b.State && b.State.Code) },
      { label: t("elb.scheme"), get: (b) => b.Scheme },
      { label: t("elb.listeners"), get: (b) => arr(listeners[lbs.indexOf(b)].Listeners).map((l) => `${l.Protocol}:${l.Port}`).join(", ") },
    ], lbs, { id: (b) => b.LoadBalancerName, selected: selectedAlb, onselect: (id) => { selectedAlb = id; load(); } }));
    const lb = lbs.find((b) => b.LoadBalancerName === selectedAlb);
    if (!lb) { panel = null; clear(detail); return; }
    if (panel && panel.arn === lb.LoadBalancerArn) { await panel.refresh(); return; }
    panel = { arn: lb.LoadBalancerArn, ...(await listenersPanel(lb)) };
    clear(detail, panel.node);
  };
  await load();
  return { refresh: load };
}

let selected = null;
export async function targetGroups(root) {
  const vpcs = await ec2("DescribeVpcs");
  const out = h("div");
  const holder = h("div", { id: "tgs" });
  const targets = h("div", { id: "tg-targets" });
  const name = input("Name", "", { required: true });
  const port = input("Port", "80", { type: "number" });
  const path = input("HealthCheckPath", "/");
  const vpc = select("VpcId", arr(vpcs.vpcSet).map((v) => [v.vpcId, `${v.vpcId}${v.isDefault === "true" ? " (default)" : ""}`]));
  root.append(h("h1", {}, t("nav.tgs")),
    h("form", { class: "panel form", id: "tg-form", onsubmit: async (e) => {
      e.preventDefault();
      try {
        const r = await elbv2("CreateTargetGroup", { Name: name.value, Protocol: "HTTP", Port: port.value, VpcId: vpc.value, HealthCheckPath: path.value });
        selected = arr(r.TargetGroups)[0].TargetGroupArn;
        await load();
      } catch (err) { clear(out, errorBox(err)); }
    } }, field(t("tg.name"), name), field(t("elb.protocol"), h("span", {}, "HTTP")), field(t("elb.instancePort"), port), field("VPC", vpc),
    field(t("tg.healthPath"), path), h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "tg-submit" }, t("tg.create")))),
    out, holder, targets);
  const load = async () => {
    const r = await elbv2("DescribeTargetGroups");
    const groups = arr(r.TargetGroups);
    clear(holder, table([
      { label: t("tg.name"), get: (g) => g.TargetGroupName },
      { label: t("elb.protocol"), get: (g) => `${g.Protocol}:${g.Port}` },
      { label: t("tg.healthPath"), get: (g) => g.HealthCheckPath },
      { label: t("tg.lbs"), get: (g) => arr(g.LoadBalancerArns).map((a) => a.split("/")[2]).join(", ") },
    ], groups, { id: (g) => g.TargetGroupName, selected: groups.find((g) => g.TargetGroupArn === selected)?.TargetGroupName,
      onselect: (_, g) => { selected = g.TargetGroupArn; load(); } }));
    const g = groups.find((x) => x.TargetGroupArn === selected);
    clear(targets);
    if (!g) return;
    const [health, insts] = await Promise.all([elbv2("DescribeTargetHealth", { TargetGroupArn: g.TargetGroupArn }), describeInstances()]);
    const boxes = insts.filter((i) => ["pending", "running"].includes(i.instanceState.name))
      .map((i) => box("Target", i.instanceId, `${i.instanceId} ${tag(i.tagSet, "Name")}`, false));
    targets.append(h("h2", {}, t("tg.targetsOf", { name: g.TargetGroupName })),
      table([{ label: t("ec2.instanceId"), get: (d) => d.Target.Id }, { label: t("tg.port"), get: (d) => d.Target.Port },
        { label: t("tg.health"), get: (d) => state(d.TargetHealth.State) },
        { label: t("elb.reason"), get: (d) => [d.TargetHealth.Reason, d.TargetHealth.Description].filter(Boolean).join(": ") }],
      arr(health.TargetHealthDescriptions), { id: (d) => d.Target.Id }),
      h("form", { class: "panel", id: "register-form", onsubmit: async (e) => {
        e.preventDefault();
        try {
          await elbv2("RegisterTargets", { TargetGroupArn: g.TargetGroupArn, ...members("Targets.member", checked(boxes), "Id") });
          await load();
        } catch (err) { clear(out, errorBox(err)); }
      } }, h("div", {}, boxes.length ? boxes : t("common.empty")), h("button", { type: "submit", id: "register-submit" }, t("tg.register"))));
  };
  await load();
  return { refresh: load };
}

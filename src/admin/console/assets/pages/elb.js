// Load balancers → Classic: list (DescribeLoadBalancers), create (CreateLoadBalancer +
// ConfigureHealthCheck + RegisterInstancesWithLoadBalancer, reporting which calls succeeded),
// and one load balancer's Description / Instances (DescribeInstanceHealth) / Health check tabs.
import { ec2, elb, arr, list as members, steps } from "../api.js";
import { h, clear, table, state, errorBox, note, field, input, select, tabs, details, editing } from "../dom.js";
import { t } from "../i18n.js";
import { go } from "../router.js";
import { describeInstances } from "./instances.js";
import { tag } from "../api.js";
import { listenersPane, attributesPane } from "./elb_settings.js";

const dnsLink = (dns) => h("a", { href: `http://${dns}:${location.port || 80}/`, target: "_blank", rel: "noopener" }, dns);

export async function list(root) {
  const holder = h("div", { id: "elbs" });
  root.append(h("h1", {}, t("nav.elb")),
    h("div", { class: "toolbar" }, h("button", { class: "primary", id: "elb-new", onclick: () => go("/elb/new") }, t("elb.create"))), holder);
  const load = async () => {
    const r = await elb("DescribeLoadBalancers");
    clear(holder, table([
      { label: t("elb.name"), get: (b) => h("a", { href: `#/elb/${encodeURIComponent(b.LoadBalancerName)}` }, b.LoadBalancerName) },
      { label: t("elb.dns"), get: (b) => dnsLink(b.DNSName) },
      { label: t("elb.instances"), get: (b) => String(arr(b.Instances).length) },
      { label: t("ec2.az"), get: (b) => arr(b.AvailabilityZones).join(", ") },
    ], arr(r.LoadBalancerDescriptions), { id: (b) => b.LoadBalancerName }));
  };
  await load();
  return { refresh: load };
}

export async function create(root) {
  const [azr, sgr, insts] = await Promise.all([ec2("DescribeAvailabilityZones"), ec2("DescribeSecurityGroups"), describeInstances()]);
  const azs = arr(azr.availabilityZoneInfo).map((z) => z.zoneName);
  const name = input("LoadBalancerName", "", { required: true });
  const lbPort = input("LoadBalancerPort", "80", { type: "number" });
  const instPort = input("InstancePort", "80", { type: "number" });
  const proto = select("Protocol", ["HTTP", "TCP"], "HTTP");
  const sg = select("SecurityGroup", [["", t("common.none")], ...arr(sgr.securityGroupInfo).map((g) => [g.groupId, `${g.groupName} (${g.groupId})`])]);
  // The console's health check defaults (the API's is TCP): HTTP:80/index.html, 30 s, 5 s, 2, 10.
  const target = input("Target", "HTTP:80/index.html");
  const interval = input("Interval", "30", { type: "number" });
  const timeout = input("Timeout", "5", { type: "number" });
  const unhealthy = input("UnhealthyThreshold", "2", { type: "number" });
  const healthy = input("HealthyThreshold", "10", { type: "number" });
  const azBoxes = azs.map((z, i) => h("label", {}, h("input", { type: "checkbox", name: "AvailabilityZone", value: z, checked: i < 2 }), ` ${z} `));
  const running = insts.filter((i) => ["pending", "running"].includes(i.instanceState.name));
  const instBoxes = running.map((i) => h("label", {}, h("input", { type: "checkbox", name: "Instance", value: i.instanceId }),
    ` ${i.instanceId} ${tag(i.tagSet, "Name")} (${i.placement.availabilityZone})`, h("br")));
  const out = h("div");
  const submit = async (e) => {
    e.preventDefault();
    const picked = (boxes) => boxes.map((b) => b.querySelector("input")).filter((x) => x.checked).map((x) => x.value);
    const n = name.value;
    try {
      await steps([
        ["CreateLoadBalancer", () => elb("CreateLoadBalancer", {
          LoadBalancerName: n, "Listeners.member.1.Protocol": proto.value, "Listeners.member.1.LoadBalancerPort": lbPort.value,
          "Listeners.member.1.InstanceProtocol": proto.value, "Listeners.member.1.InstancePort": instPort.value,
          ...members("AvailabilityZones.member", picked(azBoxes)), ...(sg.value ? { "SecurityGroups.member.1": sg.value } : {}) })],
        ["ConfigureHealthCheck", () => elb("ConfigureHealthCheck", { LoadBalancerName: n, "HealthCheck.Target": target.value,
          "HealthCheck.Interval": interval.value, "HealthCheck.Timeout": timeout.value,
          "HealthCheck.UnhealthyThreshold": unhealthy.value, "HealthCheck.HealthyThreshold": healthy.value })],
        ...(picked(instBoxes).length ? [["RegisterInstancesWithLoadBalancer", () => elb("RegisterInstancesWithLoadBalancer",
          { LoadBalancerName: n, ...members("Instances.member", picked(instBoxes), "InstanceId") })]] : []),
      ]);
      go(`/elb/${encodeURIComponent(n)}`);
    } catch (err) { clear(out, errorBox(err)); }
  };
  root.append(h("h1", {}, t("elb.create")),
    h("form", { class: "panel form", id: "elb-form", onsubmit: submit },
      field(t("elb.name"), name), field(t("elb.protocol"), proto), field(t("elb.lbPort"), lbPort), field(t("elb.instancePort"), instPort),
      field(t("ec2.az"), h("div", {}, azBoxes)), field(t("ec2.secgroups"), sg),
      field(t("elb.hcTarget"), target), field(t("elb.hcInterval"), interval), field(t("elb.hcTimeout"), timeout),
      field(t("elb.hcUnhealthy"), unhealthy), field(t("elb.hcHealthy"), healthy),
      field(t("elb.instances"), h("div", {}, instBoxes.length ? instBoxes : t("common.empty"))),
      h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "elb-submit" }, t("elb.create")))),
    out);
}

let tab = "instances";
export async function detail(root, { name }) {
  const body = h("div");
  const out = h("div");
  root.append(h("h1", {}, t("elb.title", { name })), out, body);
  const load = async () => {
    const [d, health] = await Promise.all([
      elb("DescribeLoadBalancers", { "LoadBalancerNames.member.1": name }),
      elb("DescribeInstanceHealth", { LoadBalancerName: name }),
    ]);
    const b = arr(d.LoadBalancerDescriptions)[0];
    const pane = h("div");
    clear(body, tabs([{ key: "description", label: t("tab.description") }, { key: "instances", label: t("elb.instances") },
      { key: "health", label: t("elb.healthCheck") }, { key: "listeners", label: t("elb.listeners") },
      { key: "attributes", label: t("elb.attributes") }], tab, (k) => { tab = k; load(); }), pane);
    if (tab === "description") {
      pane.append(details([[t("elb.name"), b.LoadBalancerName], [t("elb.dns"), dnsLink(b.DNSName)], [t("elb.scheme"), b.Scheme],
        [t("ec2.az"), arr(b.AvailabilityZones).join(", ")], [t("ec2.secgroups"), arr(b.SecurityGroups).join(", ")],
        [t("elb.listeners"), arr(b.ListenerDescriptions).map((l) => `${l.Listener.Protocol}:${l.Listener.LoadBalancerPort} → ${l.Listener.InstanceProtocol}:${l.Listener.InstancePort}`).join(", ")]]));
    } else if (tab === "listeners") {
      pane.append(await listenersPane(b, load, out));
    } else if (tab === "attributes") {
      pane.append(await attributesPane(name, load, out));
    } else if (tab === "health") {
      const hc = b.HealthCheck;
      pane.append(details([[t("elb.hcTarget"), hc.Target], [t("elb.hcInterval"), hc.Interval], [t("elb.hcTimeout"), hc.Timeout],
        [t("elb.hcUnhealthy"), hc.UnhealthyThreshold], [t("elb.hcHealthy"), hc.HealthyThreshold]]));
    } else {
      pane.append(h("div", { id: "elb-instances" }, table([
        { label: t("ec2.instanceId"), get: (s) => s.InstanceId },
        { label: t("elb.status"), get: (s) => state(s.State) },
        { label: t("elb.reason"), get: (s) => (s.ReasonCode && s.ReasonCode !== "N/A" ? `${s.ReasonCode}: ` : "") + (s.Description || "") },
        { label: "", get: (s) => h("button", { onclick: async () => {
          try { await elb("DeregisterInstancesFromLoadBalancer", { LoadBalancerName: name, "Instances.member.1.InstanceId": s.InstanceId }); await load(); }
          catch (err) { clear(out, errorBox(err)); }
        } }, t("elb.deregister")) },
      ], arr(health.InstanceStates), { id: (s) => s.InstanceId })));
    }
  };
  await load();
  // A live refresh leaves a settings form someone is filling in (elb_settings.js) alone.
  return { refresh: () => (editing(body) ? undefined : load()) };
}

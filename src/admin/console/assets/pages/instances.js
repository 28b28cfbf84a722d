// EC2 → Instances: the list (DescribeInstances), actions (Start/Stop/Reboot/TerminateInstances),
// Create Image (CreateImage), CPU stress (admin API), and one instance's details with its CPU
// graph (CloudWatch GetMetricStatistics).
import { ec2, arr, tag, cloudwatch } from "../api.js";
import { h, clear, table, state, errorBox, note, details, field, input, tabs, when } from "../dom.js";
import { t } from "../i18n.js";
import { go } from "../router.js";
import { stress, clockNow } from "../workshop.js";
import { lineChart } from "../chart.js";

let selected = null;

/** Every instance of the region, flattened out of reservations. */
export async function describeInstances(params = {}) {
  const out = await ec2("DescribeInstances", params);
  return arr(out.reservationSet).flatMap((r) => arr(r.instancesSet));
}

const columns = () => [
  { label: t("ec2.name"), get: (i) => tag(i.tagSet, "Name") },
  { label: t("ec2.instanceId"), get: (i) => h("a", { href: `#/ec2/instances/${i.instanceId}` }, i.instanceId) },
  { label: t("ec2.state"), get: (i) => state(i.instanceState.name) },
  { label: t("ec2.type"), get: (i) => i.instanceType },
  { label: t("ec2.az"), get: (i) => i.placement.availabilityZone },
  { label: t("ec2.ami"), get: (i) => i.imageId },
  { label: t("ec2.publicDns"), get: (i) => i.dnsName || "" },
  { label: t("ec2.publicIp"), get: (i) => i.ipAddress || "" },
  { label: t("ec2.monitoring"), get: (i) => (i.monitoring && i.monitoring.state) || "" },
];

function actions(id, after, out) {
  const run = (action, extra = {}) => async () => {
    try {
      await ec2(action, { "InstanceId.1": id, ...extra });
      clear(out, note(t("ec2.actionDone", { action: t(`ec2.action.${action}`), id })));
      await after();
    } catch (err) { clear(out, errorBox(err)); }
  };
  const imageForm = () => {
    const name = input("Name", "", { required: true });
    const desc = input("Description");
    const noReboot = h("input", { type: "checkbox", name: "NoReboot" });
    const msg = h("div");
    const form = h("form", { class: "panel form", id: "create-image", onsubmit: async (e) => {
      e.preventDefault();
      try {
        const r = await ec2("CreateImage", { InstanceId: id, Name: name.value, Description: desc.value, NoReboot: noReboot.checked });
        clear(out, note(t("ec2.imageCreated", { id: r.imageId })), h("a", { href: "#/ec2/amis", id: "view-pending-image" }, t("ec2.viewPendingImage")));
      } catch (err) { clear(msg, errorBox(err)); }
    } }, field(t("ec2.imageName"), name), field(t("ec2.imageDescription"), desc), field(t("ec2.noReboot"), noReboot),
    h("span"), h("div", {}, h("button", { class: "primary", type: "submit" }, t("ec2.createImage")), msg));
    clear(out, form);
    name.focus();
  };
  return h("div", { class: "toolbar" },
    ["StartInstances", "StopInstances", "RebootInstances", "TerminateInstances"].map((a) =>
      h("button", { "data-act": a, onclick: run(a) }, t(`ec2.action.${a}`))),
    h("button", { "data-act": "CreateImage", onclick: imageForm }, t("ec2.createImage")),
    h("button", { "data-act": "stress", onclick: async () => {
      try { await stress(id, 100); clear(out, note(t("ec2.stressOn", { id }))); } catch (err) { clear(out, errorBox(err)); }
    } }, t("ec2.stress")),
    h("button", { "data-act": "unstress", onclick: async () => {
      try { await stress(id, 0); clear(out, note(t("ec2.stressOff", { id }))); } catch (err) { clear(out, errorBox(err)); }
    } }, t("ec2.unstress")));
}

export async function list(root) {
  const out = h("div");
  const bar = h("div");
  const holder = h("div", { id: "instances" });
  root.append(h("h1", {}, t("nav.instances")),
    h("div", { class: "toolbar" }, h("button", { class: "primary", id: "launch", onclick: () => go("/ec2/launch") }, t("ec2.launch")),
      h("span", { class: "muted" }, t("ec2.selectHint"))), bar, out, holder);
  const load = async () => {
    const started = performance.now();
    const items = await describeInstances();
    window.__lastApiMs = performance.now() - started;
    if (selected && !items.some((i) => i.instanceId === selected)) selected = null;
    clear(holder, table(columns(), items, { id: (i) => i.instanceId, selected, onselect: (id) => { selected = id; load(); } }));
    clear(bar, selected ? actions(selected, load, out) : null);
    window.__lastRenderMs = performance.now() - started;
  };
  await load();
  return { refresh: load };
}

export async function detail(root, { id }) {
  const out = h("div");
  const body = h("div");
  let tab = "details";
  root.append(h("h1", {}, t("ec2.instanceTitle", { id })), out, body);
  const load = async () => {
    const [i] = await describeInstances({ "InstanceId.1": id });
    if (!i) { clear(body, errorBox(t("ec2.noSuchInstance"))); return; }
    const pane = h("div");
    clear(body, actions(id, load, out), tabs([{ key: "details", label: t("tab.details") }, { key: "monitoring", label: t("tab.monitoring") }],
      tab, (k) => { tab = k; load(); }), pane);
    if (tab === "details") {
      pane.append(details([
        [t("ec2.name"), tag(i.tagSet, "Name")], [t("ec2.instanceId"), i.instanceId], [t("ec2.state"), state(i.instanceState.name)],
        [t("ec2.type"), i.instanceType], [t("ec2.az"), i.placement.availabilityZone], [t("ec2.ami"), i.imageId],
        [t("ec2.keyName"), i.keyName], [t("ec2.publicDns"), i.dnsName], [t("ec2.publicIp"), i.ipAddress],
        [t("ec2.privateIp"), i.privateIpAddress], [t("ec2.secgroups"), arr(i.groupSet).map((g) => g.groupName).join(", ")],
        [t("ec2.monitoring"), i.monitoring && i.monitoring.state], [t("ec2.launchTime"), when(i.launchTime)],
        [t("ec2.tags"), arr(i.tagSet).map((x) => `${x.key}=${x.value}`).join(", ")],
      ]));
    } else {
      const now = clockNow();
      const r = await cloudwatch("GetMetricStatistics", { Namespace: "AWS/EC2", MetricName: "CPUUtilization",
        Dimensions: [{ Name: "InstanceId", Value: id }], StartTime: now - 3 * 3600, EndTime: now + 60, Period: 60, Statistics: ["Average"] });
      const pts = (r.Datapoints || []).map((d) => ({ t: Number(d.Timestamp), v: d.Average }));
      pane.append(lineChart({ points: pts, label: t("ec2.cpuGraph") }));
    }
  };
  await load();
  return { refresh: load };
}

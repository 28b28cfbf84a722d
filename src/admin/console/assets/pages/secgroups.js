// EC2 → Security groups: list (DescribeSecurityGroups), create (CreateSecurityGroup) and
// inbound rules (AuthorizeSecurityGroupIngress / RevokeSecurityGroupIngress).
import { ec2, arr } from "../api.js";
import { h, clear, table, errorBox, note, field, input, select } from "../dom.js";
import { t } from "../i18n.js";

const PRESETS = { HTTP: ["tcp", 80], SSH: ["tcp", 22], HTTPS: ["tcp", 443] };
let selected = null;

const ruleText = (p) => `${p.ipProtocol === "-1" ? "all" : p.ipProtocol} ${p.fromPort ?? ""}${p.toPort && p.toPort !== p.fromPort ? "-" + p.toPort : ""} ← ${
  [...arr(p.ipRanges).map((r) => r.cidrIp), ...arr(p.groups).map((g) => g.groupId)].join(", ")}`;

export async function page(root) {
  const out = h("div");
  const holder = h("div", { id: "secgroups" });
  const rules = h("div");
  const name = input("GroupName", "", { required: true });
  const desc = input("GroupDescription", "", { required: true });
  root.append(h("h1", {}, t("nav.secgroups")),
    h("form", { class: "panel form", id: "sg-form", onsubmit: async (e) => {
      e.preventDefault();
      try {
        const r = await ec2("CreateSecurityGroup", { GroupName: name.value, GroupDescription: desc.value });
        selected = r.groupId;
        clear(out, note(t("sg.created", { id: r.groupId })));
        await load();
      } catch (err) { clear(out, errorBox(err)); }
    } }, field(t("sg.name"), name), field(t("sg.description"), desc),
    h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "sg-create" }, t("sg.create")))),
    out, holder, rules);
  const load = async () => {
    const r = await ec2("DescribeSecurityGroups");
    const groups = arr(r.securityGroupInfo);
    clear(holder, table([
      { label: t("sg.name"), get: (g) => g.groupName },
      { label: t("sg.id"), get: (g) => g.groupId },
      { label: t("sg.description"), get: (g) => g.groupDescription },
      { label: t("sg.inbound"), get: (g) => arr(g.ipPermissions).map(ruleText).join("; ") },
    ], groups, { id: (g) => g.groupId, selected, onselect: (id) => { selected = id; load(); } }));
    const g = groups.find((x) => x.groupId === selected);
    clear(rules, g ? ruleEditor(g, load, out) : null);
  };
  await load();
  return { refresh: load };
}

function ruleEditor(g, load, out) {
  const preset = select("Preset", [["HTTP", "HTTP (80)"], ["SSH", "SSH (22)"], ["HTTPS", "HTTPS (443)"], ["custom", t("sg.custom")]], "HTTP");
  const proto = select("IpProtocol", ["tcp", "udp", "icmp", "-1"], "tcp");
  const from = input("FromPort", "80", { type: "number" });
  const to = input("ToPort", "80", { type: "number" });
  const cidr = input("CidrIp", "0.0.0.0/0");
  preset.addEventListener("change", () => {
    const p = PRESETS[preset.value];
    if (p) { proto.value = p[0]; from.value = p[1]; to.value = p[1]; }
  });
  const perm = (p) => ({ "IpPermissions.1.IpProtocol": p.ipProtocol, "IpPermissions.1.FromPort": p.fromPort, "IpPermissions.1.ToPort": p.toPort,
    "IpPermissions.1.IpRanges.1.CidrIp": arr(p.ipRanges)[0] && arr(p.ipRanges)[0].cidrIp });
  return h("div", { class: "panel", id: "sg-rules" },
    h("h2", {}, t("sg.inboundOf", { name: g.groupName })),
    table([{ label: t("sg.rule"), get: ruleText }, { label: "", get: (p) => h("button", { onclick: async () => {
      try { await ec2("RevokeSecurityGroupIngress", { GroupId: g.groupId, ...perm(p) }); await load(); } catch (err) { clear(out, errorBox(err)); }
    } }, t("common.delete")) }], arr(g.ipPermissions)),
    h("form", { class: "form", id: "rule-form", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await ec2("AuthorizeSecurityGroupIngress", { GroupId: g.groupId, "IpPermissions.1.IpProtocol": proto.value,
          "IpPermissions.1.FromPort": from.value, "IpPermissions.1.ToPort": to.value, "IpPermissions.1.IpRanges.1.CidrIp": cidr.value });
        clear(out, note(t("sg.ruleAdded")));
        await load();
      } catch (err) { clear(out, errorBox(err)); }
    } }, field(t("sg.type"), preset), field(t("sg.protocol"), proto), field(t("sg.fromPort"), from), field(t("sg.toPort"), to),
    field(t("sg.source"), cidr), h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "rule-add" }, t("sg.addRule")))));
}

// EC2 → Security groups: list (DescribeSecurityGroups), create (CreateSecurityGroup), and the
// inbound and outbound rules (Authorize/RevokeSecurityGroupIngress, …Egress).
import { ec2, arr } from "../api.js";
import { h, clear, table, errorBox, note, field, input, select, tabs } from "../dom.js";
import { t } from "../i18n.js";

const PRESETS = { HTTP: ["tcp", 80], SSH: ["tcp", 22], HTTPS: ["tcp", 443], ALL: ["-1", ""] };
/** Per direction: the group's rules, the calls, the arrow and the peer's label. */
const DIRECTIONS = {
  inbound: { rules: "ipPermissions", authorize: "AuthorizeSecurityGroupIngress", revoke: "RevokeSecurityGroupIngress", arrow: "←", peer: "sg.source" },
  outbound: { rules: "ipPermissionsEgress", authorize: "AuthorizeSecurityGroupEgress", revoke: "RevokeSecurityGroupEgress", arrow: "→", peer: "sg.destination" },
};
let selected = null;
let direction = "inbound";

const peers = (p) => [...arr(p.ipRanges).map((r) => r.cidrIp), ...arr(p.ipv6Ranges).map((r) => r.cidrIpv6), ...arr(p.groups).map((g) => g.groupId)];
const ruleText = (p, arrow = "←") => `${p.ipProtocol === "-1" ? "all" : p.ipProtocol}${p.ipProtocol === "-1" ? "" : ` ${p.fromPort ?? ""}`}${
  p.toPort && p.toPort !== p.fromPort ? "-" + p.toPort : ""} ${arrow} ${peers(p).join(", ")}`;

/** The whole rule as IpPermissions.1 (every range and group), as revoking it needs. */
function permission(p) {
  const out = { "IpPermissions.1.IpProtocol": p.ipProtocol };
  if (p.ipProtocol !== "-1") Object.assign(out, { "IpPermissions.1.FromPort": p.fromPort, "IpPermissions.1.ToPort": p.toPort });
  arr(p.ipRanges).forEach((r, i) => { out[`IpPermissions.1.IpRanges.${i + 1}.CidrIp`] = r.cidrIp; });
  arr(p.ipv6Ranges).forEach((r, i) => { out[`IpPermissions.1.Ipv6Ranges.${i + 1}.CidrIpv6`] = r.cidrIpv6; });
  arr(p.groups).forEach((g, i) => { out[`IpPermissions.1.Groups.${i + 1}.GroupId`] = g.groupId; });
  return out;
}

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
      { label: t("sg.inbound"), get: (g) => arr(g.ipPermissions).map((p) => ruleText(p)).join("; ") },
      { label: t("sg.outbound"), get: (g) => arr(g.ipPermissionsEgress).map((p) => ruleText(p, "→")).join("; ") },
    ], groups, { id: (g) => g.groupId, selected, onselect: (id) => { selected = id; load(); } }));
    const g = groups.find((x) => x.groupId === selected);
    clear(rules, g ? ruleEditor(g, load, out) : null);
  };
  await load();
  return { refresh: load };
}

function ruleEditor(g, load, out) {
  const dir = DIRECTIONS[direction];
  const preset = select("Preset", [["HTTP", "HTTP (80)"], ["SSH", "SSH (22)"], ["HTTPS", "HTTPS (443)"], ["ALL", t("sg.allTraffic")], ["custom", t("sg.custom")]], "HTTP");
  const proto = select("IpProtocol", ["tcp", "udp", "icmp", "-1"], "tcp");
  const from = input("FromPort", "80", { type: "number" });
  const to = input("ToPort", "80", { type: "number" });
  const cidr = input("CidrIp", "0.0.0.0/0");
  preset.addEventListener("change", () => {
    const p = PRESETS[preset.value];
    if (p) { proto.value = p[0]; from.value = p[1]; to.value = p[1]; }
  });
  // A source (or destination) is a CIDR block or a security group id.
  const peer = (v) => (v.startsWith("sg-") ? { "IpPermissions.1.Groups.1.GroupId": v } : { "IpPermissions.1.IpRanges.1.CidrIp": v });
  const pickDir = (k) => { direction = k; load(); };
  return h("div", { class: "panel", id: "sg-rules" },
    tabs([{ key: "inbound", label: t("sg.inbound") }, { key: "outbound", label: t("sg.outbound") }], direction, pickDir),
    h("h2", {}, t(direction === "inbound" ? "sg.inboundOf" : "sg.outboundOf", { name: g.groupName })),
    table([{ label: t("sg.rule"), get: (p) => ruleText(p, dir.arrow) }, { label: "", get: (p) => h("button", { "data-act": "revoke", onclick: async () => {
      try { await ec2(dir.revoke, { GroupId: g.groupId, ...permission(p) }); clear(out, note(t("sg.ruleRevoked"))); await load(); } catch (err) { clear(out, errorBox(err)); }
    } }, t("common.delete")) }], arr(g[dir.rules])),
    h("form", { class: "form", id: "rule-form", "data-direction": direction, onsubmit: async (e) => {
      e.preventDefault();
      const all = proto.value === "-1";
      try {
        await ec2(dir.authorize, { GroupId: g.groupId, "IpPermissions.1.IpProtocol": proto.value,
          "IpPermissions.1.FromPort": all ? "" : from.value, "IpPermissions.1.ToPort": all ? "" : to.value, ...peer(cidr.value.trim()) });
        clear(out, note(t("sg.ruleAdded")));
        await load();
      } catch (err) { clear(out, errorBox(err)); }
    } }, field(t("sg.type"), preset), field(t("sg.protocol"), proto), field(t("sg.fromPort"), from), field(t("sg.toPort"), to),
    field(t(dir.peer), cidr), h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "rule-add" }, t("sg.addRule")))));
}

// Auto Scaling → Launch configurations: list (DescribeLaunchConfigurations), create as the
// chapter's wizard does (AMI from My AMIs, type, name, detailed monitoring, user data, security
// group, key pair → CreateLaunchConfiguration), delete (DeleteLaunchConfiguration).
import { autoscaling, arr, b64 } from "../api.js";
import { h, clear, table, errorBox, field, input, select, when } from "../dom.js";
import { t } from "../i18n.js";
import { go } from "../router.js";
import { launchChoices, TYPES } from "./launch.js";

export async function list(root) {
  const out = h("div");
  const holder = h("div", { id: "lcs" });
  root.append(h("h1", {}, t("nav.lcs")),
    h("div", { class: "toolbar" }, h("button", { class: "primary", id: "lc-new", onclick: () => go("/asg/lcs/new") }, t("lc.create"))), out, holder);
  const load = async () => {
    const r = await autoscaling("DescribeLaunchConfigurations");
    clear(holder, table([
      { label: t("lc.name"), get: (c) => c.LaunchConfigurationName },
      { label: t("ec2.ami"), get: (c) => c.ImageId },
      { label: t("ec2.type"), get: (c) => c.InstanceType },
      { label: t("ec2.keyName"), get: (c) => c.KeyName || "" },
      { label: t("ec2.monitoring"), get: (c) => (c.InstanceMonitoring && c.InstanceMonitoring.Enabled === "true" ? t("lc.detailed") : t("lc.basic")) },
      { label: t("lc.created"), get: (c) => when(c.CreatedTime) },
      { label: "", get: (c) => h("button", { onclick: async () => {
        try { await autoscaling("DeleteLaunchConfiguration", { LaunchConfigurationName: c.LaunchConfigurationName }); await load(); }
        catch (err) { clear(out, errorBox(err)); }
      } }, t("common.delete")) },
    ], arr(r.LaunchConfigurations), { id: (c) => c.LaunchConfigurationName }));
  };
  await load();
  return { refresh: load };
}

export async function create(root) {
  const c = await launchChoices();
  const ami = select("ImageId", c.amis);
  const type = select("InstanceType", TYPES, "t1.micro");
  const name = input("LaunchConfigurationName", "", { required: true });
  const monitoring = h("input", { type: "checkbox", name: "InstanceMonitoring" });
  const userData = h("textarea", { name: "UserData", placeholder: "#!/bin/bash" });
  const sg = h("select", { name: "SecurityGroups", multiple: true, size: Math.min(5, Math.max(2, c.sgs.length)) },
    c.sgs.map(([v, l]) => h("option", { value: v }, l)));
  const key = select("KeyName", [["", t("common.none")], ...c.keys], c.keys[0]);
  const out = h("div");
  const submit = async (e) => {
    e.preventDefault();
    const params = { LaunchConfigurationName: name.value, ImageId: ami.value, InstanceType: type.value, KeyName: key.value,
      "InstanceMonitoring.Enabled": monitoring.checked, UserData: userData.value ? b64(userData.value) : "" };
    Array.from(sg.selectedOptions).forEach((o, i) => { params[`SecurityGroups.member.${i + 1}`] = o.value; });
    try {
      await autoscaling("CreateLaunchConfiguration", params);
      go("/asg/lcs");
    } catch (err) { clear(out, errorBox(err)); }
  };
  root.append(h("h1", {}, t("lc.create")),
    h("form", { class: "panel form", id: "lc-form", onsubmit: submit },
      field(t("lc.name"), name), field(t("launch.ami"), ami), field(t("ec2.type"), type), field(t("launch.monitoring"), monitoring),
      field(t("launch.userData"), userData), field(t("ec2.secgroups"), sg), field(t("ec2.keyName"), key),
      h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "lc-submit" }, t("lc.create")))),
    out);
}

// Launch templates: list (DescribeLaunchTemplates), create (CreateLaunchTemplate with AMI, type,
// key pair, security groups, user data, detailed monitoring), delete (DeleteLaunchTemplate), and
// one template's versions (DescribeLaunchTemplateVersions): a new version on top of another
// (CreateLaunchTemplateVersion with SourceVersion), set the default (ModifyLaunchTemplate).
import { ec2, arr, b64 } from "../api.js";
import { h, clear, table, errorBox, note, field, input, select, when, keepEdits, editing } from "../dom.js";
import { t } from "../i18n.js";
import { go } from "../router.js";
import { launchChoices, TYPES } from "./launch.js";

/** User data as text (the API keeps it in base64). */
function unb64(s) {
  try { return new TextDecoder().decode(Uint8Array.from(atob(s || ""), (c) => c.charCodeAt(0))); } catch { return ""; }
}

/**
 * The template-data fields, filled from `data` (a version's launchTemplateData) when given; returns
 * the nodes and `params()`, the LaunchTemplateData.* form parameters. An empty choice is not sent.
 */
function dataFields(c, data = {}) {
  const sgIds = new Set(arr(data.securityGroupIdSet));
  const ami = select("ImageId", c.amis, data.imageId);
  const type = select("InstanceType", TYPES, data.instanceType || "t2.micro");
  const key = select("KeyName", [["", t("common.none")], ...c.keys], data.keyName ?? c.keys[0]);
  const sg = h("select", { name: "SecurityGroupId", multiple: true, size: Math.min(5, Math.max(2, c.sgs.length)) },
    c.sgs.map(([v, l]) => h("option", { value: v, selected: sgIds.has(v) ? true : undefined }, l)));
  const monitoring = h("input", { type: "checkbox", name: "Monitoring", checked: data.monitoring && data.monitoring.enabled === "true" });
  const userData = h("textarea", { name: "UserData", placeholder: "#!/bin/bash" }, unb64(data.userData));
  const params = () => {
    const p = { "LaunchTemplateData.ImageId": ami.value, "LaunchTemplateData.InstanceType": type.value, "LaunchTemplateData.KeyName": key.value,
      "LaunchTemplateData.Monitoring.Enabled": monitoring.checked, "LaunchTemplateData.UserData": userData.value ? b64(userData.value) : "" };
    Array.from(sg.selectedOptions).forEach((o, i) => { p[`LaunchTemplateData.SecurityGroupId.${i + 1}`] = o.value; });
    return p;
  };
  return { params, nodes: [field(t("launch.ami"), ami), field(t("ec2.type"), type), field(t("ec2.keyName"), key), field(t("ec2.secgroups"), sg),
    field(t("launch.monitoring"), monitoring), field(t("launch.userData"), userData)] };
}

export async function list(root) {
  const out = h("div");
  const holder = h("div", { id: "lts" });
  root.append(h("h1", {}, t("nav.lts")),
    h("div", { class: "toolbar" }, h("button", { class: "primary", id: "lt-new", onclick: () => go("/asg/lts/new") }, t("lt.create"))), out, holder);
  const load = async () => {
    const r = await ec2("DescribeLaunchTemplates");
    clear(holder, table([
      { label: t("lt.id"), get: (x) => h("a", { href: `#/asg/lts/${x.launchTemplateId}` }, x.launchTemplateId) },
      { label: t("lt.name"), get: (x) => x.launchTemplateName },
      { label: t("lt.default"), get: (x) => x.defaultVersionNumber },
      { label: t("lt.latest"), get: (x) => x.latestVersionNumber },
      { label: t("lc.created"), get: (x) => when(x.createTime) },
      { label: "", get: (x) => h("button", { class: "delete", onclick: async () => {
        try { await ec2("DeleteLaunchTemplate", { LaunchTemplateId: x.launchTemplateId }); await load(); } catch (err) { clear(out, errorBox(err)); }
      } }, t("common.delete")) },
    ], arr(r.launchTemplates), { id: (x) => x.launchTemplateName }));
  };
  await load();
  return { refresh: load };
}

export async function create(root) {
  const c = await launchChoices();
  const name = input("LaunchTemplateName", "", { required: true });
  const desc = input("VersionDescription");
  const data = dataFields(c);
  const out = h("div");
  const submit = async (e) => {
    e.preventDefault();
    try {
      const r = await ec2("CreateLaunchTemplate", { LaunchTemplateName: name.value, VersionDescription: desc.value, ...data.params() });
      go(`/asg/lts/${r.launchTemplate.launchTemplateId}`);
    } catch (err) { clear(out, errorBox(err)); }
  };
  root.append(h("h1", {}, t("lt.create")),
    h("form", { class: "panel form", id: "lt-form", onsubmit: submit },
      field(t("lt.name"), name), field(t("lt.versionDescription"), desc), data.nodes,
      h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "lt-submit" }, t("lt.create")))),
    out);
}

export async function detail(root, { id }) {
  const out = h("div");
  const body = h("div");
  const c = await launchChoices();
  const title = h("h1", {}, t("lt.title", { name: id }));
  root.append(title, out, keepEdits(body));
  const load = async () => {
    const [r, v] = await Promise.all([ec2("DescribeLaunchTemplates", { "LaunchTemplateId.1": id }),
      ec2("DescribeLaunchTemplateVersions", { LaunchTemplateId: id })]);
    const lt = arr(r.launchTemplates)[0];
    if (!lt) { clear(body, errorBox(t("lt.noSuch"))); return; }
    title.textContent = t("lt.title", { name: lt.launchTemplateName });
    const versions = arr(v.launchTemplateVersionSet).sort((a, b) => Number(b.versionNumber) - Number(a.versionNumber));
    const base = versions.find((x) => x.defaultVersion === "true") || versions[0];
    const source = select("SourceVersion", versions.map((x) => x.versionNumber), base && base.versionNumber);
    const desc = input("VersionDescription");
    // The fields start as the source version has them, and follow another pick of it.
    let data = dataFields(c, base ? base.launchTemplateData : {});
    const fields = h("div", { class: "contents" }, data.nodes);
    source.addEventListener("change", () => {
      data = dataFields(c, (versions.find((x) => x.versionNumber === source.value) || {}).launchTemplateData);
      clear(fields, data.nodes);
    });
    const msg = h("div");
    const setDefault = (n) => async () => {
      try {
        await ec2("ModifyLaunchTemplate", { LaunchTemplateId: id, SetDefaultVersion: n });
        clear(out, note(t("lt.defaultSet", { version: n })));
        await load();
      } catch (err) { clear(out, errorBox(err)); }
    };
    clear(body,
      h("h2", {}, t("lt.versions")),
      h("div", { id: "lt-versions" }, table([
        { label: t("lt.version"), get: (x) => (x.defaultVersion === "true" ? `${x.versionNumber} ${t("lt.isDefault")}` : x.versionNumber) },
        { label: t("lt.versionDescription"), get: (x) => x.versionDescription || "" },
        { label: t("ec2.ami"), get: (x) => x.launchTemplateData.imageId || "" },
        { label: t("ec2.type"), get: (x) => x.launchTemplateData.instanceType || "" },
        { label: t("ec2.keyName"), get: (x) => x.launchTemplateData.keyName || "" },
        { label: t("lc.created"), get: (x) => when(x.createTime) },
        { label: "", get: (x) => (x.defaultVersion === "true" ? "" : h("button", { class: "set-default", onclick: setDefault(x.versionNumber) }, t("lt.setDefault"))) },
      ], versions, { id: (x) => x.versionNumber })),
      h("h2", {}, t("lt.newVersion")),
      h("form", { class: "panel form", id: "ltv-form", onsubmit: async (e) => {
        e.preventDefault();
        try {
          const r2 = await ec2("CreateLaunchTemplateVersion", { LaunchTemplateId: id, SourceVersion: source.value, VersionDescription: desc.value, ...data.params() });
          clear(out, note(t("lt.versionCreated", { version: r2.launchTemplateVersion.versionNumber })));
          await load();
        } catch (err) { clear(msg, errorBox(err)); }
      } }, field(t("lt.sourceVersion"), source), field(t("lt.versionDescription"), desc), fields,
      h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "ltv-submit" }, t("lt.newVersion")), msg)));
  };
  await load();
  // A live refresh leaves the new-version form alone once someone has changed a field of it
  // (a pick made without the focus, as a select's change, counts too); submitting redraws.
  return { refresh: () => (editing(body) ? undefined : load()) };
}

// EC2 → Launch instances: one form as the console's wizard asks it (AMI from Amazon or My AMIs,
// type, key pair, security group, user data, count, AZ, detailed monitoring, Name tag) →
// RunInstances with a Name tag in TagSpecification. Reads DescribeImages, DescribeKeyPairs,
// DescribeSecurityGroups, DescribeAvailabilityZones.
import { ec2, arr, b64 } from "../api.js";
import { h, clear, errorBox, note, field, input, select } from "../dom.js";
import { t } from "../i18n.js";

export const TYPES = ["t1.micro", "t2.micro", "t2.small", "t3.micro", "t3.small", "m5.large", "c5.large"];

/** Pickers the launch form and the launch-configuration form share. */
export async function launchChoices() {
  const [amazon, mine, keys, sgs, azs] = await Promise.all([
    ec2("DescribeImages", { "Owner.1": "amazon" }),
    ec2("DescribeImages", { "Owner.1": "self" }),
    ec2("DescribeKeyPairs"),
    ec2("DescribeSecurityGroups"),
    ec2("DescribeAvailabilityZones"),
  ]);
  return {
    amis: [
      ...arr(mine.imagesSet).filter((i) => i.imageState === "available").map((i) => [i.imageId, `${t("ec2.myAmis")}: ${i.name} (${i.imageId})`]),
      ...arr(amazon.imagesSet).map((i) => [i.imageId, `Amazon: ${i.name} (${i.imageId})`]),
    ],
    keys: arr(keys.keySet).map((k) => k.keyName),
    sgs: arr(sgs.securityGroupInfo).map((g) => [g.groupId, `${g.groupName} (${g.groupId})`]),
    azs: arr(azs.availabilityZoneInfo).map((z) => z.zoneName),
  };
}

export async function page(root) {
  const c = await launchChoices();
  const ami = select("ImageId", c.amis);
  const type = select("InstanceType", TYPES, "t2.micro");
  const key = select("KeyName", [["", t("common.none")], ...c.keys], c.keys[0]);
  const sg = h("select", { name: "SecurityGroupId", multiple: true, size: Math.min(5, Math.max(2, c.sgs.length)) },
    c.sgs.map(([v, l]) => h("option", { value: v }, l)));
  const userData = h("textarea", { name: "UserData", placeholder: "#!/bin/bash" });
  const count = input("Count", "1", { type: "number", min: 1 });
  const az = select("AvailabilityZone", [["", t("common.noPreference")], ...c.azs]);
  const monitoring = h("input", { type: "checkbox", name: "Monitoring" });
  const name = input("Name");
  const out = h("div");
  const submit = async (e) => {
    e.preventDefault();
    const sgIds = Array.from(sg.selectedOptions).map((o) => o.value);
    const params = {
      ImageId: ami.value, InstanceType: type.value, MinCount: count.value, MaxCount: count.value, KeyName: key.value,
      "Placement.AvailabilityZone": az.value, "Monitoring.Enabled": monitoring.checked,
      UserData: userData.value ? b64(userData.value) : "",
    };
    sgIds.forEach((id, i) => { params[`SecurityGroupId.${i + 1}`] = id; });
    if (name.value) {
      Object.assign(params, { "TagSpecification.1.ResourceType": "instance", "TagSpecification.1.Tag.1.Key": "Name", "TagSpecification.1.Tag.1.Value": name.value });
    }
    try {
      const r = await ec2("RunInstances", params);
      const ids = arr(r.instancesSet).map((i) => i.instanceId);
      clear(out, note(t("launch.done", { ids: ids.join(", ") })), h("a", { href: "#/ec2/instances", id: "view-instances" }, t("launch.viewInstances")));
    } catch (err) { clear(out, errorBox(err)); }
  };
  root.append(h("h1", {}, t("nav.launch")),
    h("form", { class: "panel form", id: "launch-form", onsubmit: submit },
      field(t("ec2.name"), name), field(t("launch.ami"), ami), field(t("ec2.type"), type), field(t("ec2.keyName"), key),
      field(t("ec2.secgroups"), sg), field(t("ec2.az"), az), field(t("launch.count"), count),
      field(t("launch.monitoring"), monitoring), field(t("launch.userData"), userData),
      h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "launch-submit" }, t("ec2.launch")))),
    out);
}

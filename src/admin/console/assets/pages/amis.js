// EC2 → AMIs: images this account owns (DescribeImages Owner=self), pending → available, and
// Deregister (DeregisterImage).
import { ec2, arr } from "../api.js";
import { h, clear, table, state, errorBox, note, when } from "../dom.js";
import { t } from "../i18n.js";

export async function page(root) {
  const out = h("div");
  const holder = h("div", { id: "amis" });
  root.append(h("h1", {}, t("nav.amis")), out, holder);
  const load = async () => {
    const r = await ec2("DescribeImages", { "Owner.1": "self" });
    clear(holder, table([
      { label: t("ami.name"), get: (i) => i.name },
      { label: t("ami.id"), get: (i) => i.imageId },
      { label: t("ami.state"), get: (i) => state(i.imageState) },
      { label: t("ami.description"), get: (i) => i.description || "" },
      { label: t("ami.created"), get: (i) => when(i.creationDate) },
      { label: "", get: (i) => h("button", { "data-act": "deregister", onclick: async () => {
        try { await ec2("DeregisterImage", { ImageId: i.imageId }); clear(out, note(t("ami.deregistered", { id: i.imageId }))); await load(); } catch (err) { clear(out, errorBox(err)); }
      } }, t("ami.deregister")) },
    ], arr(r.imagesSet), { id: (i) => i.imageId }));
  };
  await load();
  return { refresh: load };
}

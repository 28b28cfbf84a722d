// EC2 → Key pairs: list (DescribeKeyPairs), create (CreateKeyPair; the private key is offered
// once, as a .pem download, as the console does), import (ImportKeyPair), delete (DeleteKeyPair).
import { ec2, arr, b64 } from "../api.js";
import { h, clear, table, errorBox, note, field, input, download } from "../dom.js";
import { t } from "../i18n.js";

export async function page(root) {
  const out = h("div");
  const holder = h("div", { id: "keypairs" });
  const name = input("KeyName", "", { required: true });
  const pub = h("textarea", { name: "PublicKeyMaterial", placeholder: "ssh-ed25519 AAAA… / ssh-rsa AAAA…" });
  root.append(h("h1", {}, t("nav.keypairs")),
    h("form", { class: "panel form", id: "keypair-form", onsubmit: async (e) => {
      e.preventDefault();
      try {
        if (pub.value.trim()) {
          await ec2("ImportKeyPair", { KeyName: name.value, PublicKeyMaterial: b64(pub.value.trim()) });
          clear(out, note(t("kp.imported", { name: name.value })));
        } else {
          const r = await ec2("CreateKeyPair", { KeyName: name.value });
          download(`${r.keyName}.pem`, r.keyMaterial);
          clear(out, note(t("kp.created", { name: r.keyName })));
        }
        name.value = "";
        pub.value = "";
        await load();
      } catch (err) { clear(out, errorBox(err)); }
    } }, field(t("kp.name"), name), field(t("kp.import"), pub),
    h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "keypair-create" }, t("kp.create")))),
    out, holder);
  const load = async () => {
    const r = await ec2("DescribeKeyPairs");
    clear(holder, table([
      { label: t("kp.name"), get: (k) => k.keyName },
      { label: t("kp.id"), get: (k) => k.keyPairId || "" },
      { label: t("kp.fingerprint"), get: (k) => k.keyFingerprint },
      { label: "", get: (k) => h("button", { "data-act": "delete", onclick: async () => {
        try { await ec2("DeleteKeyPair", { KeyName: k.keyName }); await load(); } catch (err) { clear(out, errorBox(err)); }
      } }, t("common.delete")) },
    ], arr(r.keySet), { id: (k) => k.keyName }));
  };
  await load();
  return { refresh: load };
}

// EC2 → Key pairs: list (DescribeKeyPairs), create (CreateKeyPair; the private key is offered
// once, as a .pem download, as the console does), import (ImportKeyPair: a public key pasted or
// read from a .pub file; AWS's error shown inline when it is not one), delete (DeleteKeyPair).
import { ec2, arr, b64 } from "../api.js";
import { h, clear, table, errorBox, note, field, input, download } from "../dom.js";
import { t } from "../i18n.js";

export async function page(root) {
  const out = h("div");
  const holder = h("div", { id: "keypairs" });
  const name = input("KeyName", "", { required: true });
  const importName = input("KeyName", "", { required: true });
  const pub = h("textarea", { name: "PublicKeyMaterial", required: true, placeholder: "ssh-ed25519 AAAA… / ssh-rsa AAAA…" });
  const file = h("input", { type: "file", name: "PublicKeyFile", accept: ".pub,text/plain" });
  file.addEventListener("change", async () => {
    const f = file.files && file.files[0];
    if (f) pub.value = (await f.text()).trim();
  });
  const done = async (text) => {
    clear(out, note(text));
    await load();
  };
  root.append(h("h1", {}, t("nav.keypairs")),
    h("form", { class: "panel form", id: "keypair-form", onsubmit: async (e) => {
      e.preventDefault();
      try {
        const r = await ec2("CreateKeyPair", { KeyName: name.value });
        download(`${r.keyName}.pem`, r.keyMaterial);
        name.value = "";
        await done(t("kp.created", { name: r.keyName }));
      } catch (err) { clear(out, errorBox(err)); }
    } }, field(t("kp.name"), name),
    h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "keypair-create" }, t("kp.create")))),
    h("div", { class: "panel" }, h("h2", {}, t("kp.importTitle")), h("form", { class: "form", id: "keypair-import-form", onsubmit: async (e) => {
      e.preventDefault();
      try {
        await ec2("ImportKeyPair", { KeyName: importName.value, PublicKeyMaterial: b64(pub.value.trim()) });
        const n = importName.value;
        importName.value = "";
        pub.value = "";
        await done(t("kp.imported", { name: n }));
      } catch (err) { clear(out, errorBox(err)); }
    } }, field(t("kp.name"), importName), field(t("kp.publicKey"), pub), field(t("kp.publicKeyFile"), file),
    h("span"), h("div", {}, h("button", { type: "submit", id: "keypair-import" }, t("kp.importSubmit"))))),
    out, holder);
  const load = async () => {
    const r = await ec2("DescribeKeyPairs");
    clear(holder, table([
      { label: t("kp.name"), get: (k) => k.keyName },
      { label: t("kp.id"), get: (k) => k.keyPairId || "" },
      { label: t("kp.type"), get: (k) => k.keyType || "" },
      { label: t("kp.fingerprint"), get: (k) => k.keyFingerprint },
      { label: "", get: (k) => h("button", { "data-act": "delete", onclick: async () => {
        try { await ec2("DeleteKeyPair", { KeyName: k.keyName }); await load(); } catch (err) { clear(out, errorBox(err)); }
      } }, t("common.delete")) },
    ], arr(r.keySet), { id: (k) => k.keyName }));
  };
  await load();
  return { refresh: load };
}

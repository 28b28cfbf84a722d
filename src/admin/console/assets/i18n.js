// Strings: one catalogue per language (ko.js, en.js, the same keys; a test checks it). The
// choice is remembered in localStorage. A missing key is reported as a console error so the
// browser tests catch it.
import ko from "./ko.js";
import en from "./en.js";

const catalogues = { ko, en };
let lang = localStorage.getItem("updraft.lang") || ((navigator.language || "").startsWith("ko") ? "ko" : "en");

export const languages = () => Object.keys(catalogues);
export const getLang = () => lang;
export function setLang(l) {
  if (!catalogues[l]) return;
  lang = l;
  localStorage.setItem("updraft.lang", l);
  document.documentElement.lang = l;
}
document.documentElement.lang = lang;

/** The string for `key` with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const s = catalogues[lang][key];
  if (s === undefined) {
    console.error(`i18n: missing key ${key} in ${lang}`);
    return key;
  }
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

/** Every key of every catalogue (for the catalogue test page). */
export function missingKeys() {
  const all = new Set([...Object.keys(ko), ...Object.keys(en)]);
  const out = [];
  for (const k of all) for (const [l, c] of Object.entries(catalogues)) if (!(k in c)) out.push(`${l}:${k}`);
  return out;
}
export const allKeys = () => Object.keys(en);

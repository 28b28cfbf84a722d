// Building nodes. Text always goes in as text nodes (never parsed as markup), so names, tags,
// user data and messages from the API show as text whatever they contain.
import { t, getLang } from "./i18n.js";

/** An element: h("button", {class: "primary", onclick}, "text", childNode…). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A state value styled by its name (running, InService, ALARM…). */
export const state = (s) => h("span", { class: `state-${s}` }, s);

/**
 * A table: columns [{label, get(row) → text|Node}], rows, options {id(row), selected, onselect}.
 * A row with an id is clickable and keyboard-selectable.
 */
export function table(columns, rows, opts = {}) {
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)));
  const body = rows.map((r) => {
    const id = opts.id ? opts.id(r) : undefined;
    const tr = h("tr", id !== undefined ? { "data-id": id, tabindex: 0, class: opts.selected === id ? "selected" : "" } : {},
      columns.map((c) => h("td", {}, c.get(r))));
    if (id !== undefined && opts.onselect) {
      tr.addEventListener("click", () => opts.onselect(id, r));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); opts.onselect(id, r); } });
    }
    return tr;
  });
  const tb = h("table", { class: opts.class || "" }, h("thead", {}, head), h("tbody", {}, body));
  if (rows.length === 0) tb.tBodies[0].append(h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, opts.empty || t("common.empty"))));
  return tb;
}

/** A labelled form row: [label, control]. The control gets an id for the label. */
let seq = 0;
export function field(label, control, hint) {
  if (!control.id) control.id = `f${++seq}`;
  return [h("label", { for: control.id }, label), hint ? h("div", {}, control, " ", h("span", { class: "muted" }, hint)) : control];
}

/** The API's own error, shown inline: code and message (and which wizard steps succeeded). */
export function errorBox(err) {
  const lines = [err && err.code ? `${err.code}: ${err.awsMessage}` : String(err && err.message || err)];
  // A classroom's "teacher only" is about who signed in, not about a token.
  if (err && err.admin && [401, 403].includes(err.status) && err.code !== "TeacherOnly") lines.push(t("workshop.tokenHint"));
  if (err && err.failedStep) {
    lines.push(t("common.failedStep", { step: err.failedStep }));
    lines.push(err.done.length ? t("common.doneSteps", { steps: err.done.join(", ") }) : t("common.noneDone"));
  }
  const box = h("div", { class: "error", role: "alert" }, lines.join("\n"));
  // A form's error can land below the fold: bring it into view once it is in the page.
  requestAnimationFrame(() => { if (box.isConnected) box.scrollIntoView({ block: "nearest" }); });
  return box;
}

export const note = (text) => h("div", { class: "note", role: "status" }, text);

export function select(name, options, value) {
  return h("select", { name }, options.map((o) => {
    const [v, label] = Array.isArray(o) ? o : [o, o];
    return h("option", { value: v, selected: v === value ? true : undefined }, label);
  }));
}

export const input = (name, value = "", attrs = {}) => h("input", { name, value, ...attrs });

/** Tabs: [{key, label, render(el)}]; the selected key is kept by the caller. */
export function tabs(list, selected, onpick) {
  return h("div", { class: "tabs", role: "tablist" }, list.map((x) =>
    h("button", { role: "tab", "aria-selected": x.key === selected ? "true" : "false", "data-tab": x.key, onclick: () => onpick(x.key) }, x.label)));
}

export function details(pairs) {
  return h("dl", { class: "details" }, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v === undefined || v === "" ? "-" : v)]));
}

/** Save text as a file (the key pair's .pem). */
export function download(name, text) {
  const a = h("a", { href: URL.createObjectURL(new Blob([text], { type: "application/x-pem-file" })), download: name });
  document.body.append(a);
  a.click();
  a.remove();
}

/** A time from the API, shown in local time. */
export function when(iso) {
  if (!iso) return "";
  const d = typeof iso === "number" ? new Date(iso * 1000) : new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString(locale());
}

/** The locale for dates and numbers: the console's language, not the browser's. */
export const locale = () => (getLang() === "ko" ? "ko-KR" : "en-US");

/*
 * Don't redraw a form the user is editing. A form someone has changed (typed into, picked in:
 * a select's change counts, focus or not) is theirs until they submit it or the page draws it
 * anew for another reason (a tab change); a live refresh leaves it alone.
 */

/** Mark each form inside `root` on its first input or change (`data-dirty`); returns `root`. */
export function keepEdits(root) {
  const mark = (e) => {
    const form = e.target.closest && e.target.closest("form");
    if (form) form.dataset.dirty = "1";
  };
  root.addEventListener("input", mark);
  root.addEventListener("change", mark);
  return root;
}

/** The focus is in a field of a form inside `root`: redrawing now would lose what is typed. */
export function typingIn(root) {
  const a = document.activeElement;
  return !!(a && root.contains(a) && ["INPUT", "SELECT", "TEXTAREA"].includes(a.tagName) && a.closest("form"));
}

/** Someone is editing a form inside `root`: typing in it, or has changed it (`keepEdits`). */
export const editing = (root) => typingIn(root) || !!root.querySelector("form[data-dirty]");

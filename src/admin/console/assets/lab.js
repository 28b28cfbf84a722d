// The guided lab: a side panel next to the console pages (they stay usable while it is open)
// with the lab's steps, each turning green when the server's check of the account's state
// holds (status polled every 2 s), the console page it happens on, the equivalent aws CLI
// commands with a copy button, and "do it for me", which runs the step's API calls from this
// browser through api.js, showing each call as it runs. The page #/lab chooses a lab.
// Calls: GET /_updraft/lab, /_updraft/lab/{id}, /_updraft/lab/{id}/status,
// /_updraft/lab/{id}/steps/{step}/calls/{n}; then the AWS operations those name.
import { query, admin, session } from "./api.js";
import { h, clear, errorBox, when } from "./dom.js";
import { t, getLang } from "./i18n.js";

let panel;
let lab = null;
let lang = "";
let timer = null;
let steps = new Map();
const openSteps = new Set();
let busy = false;
/** The step opened because it was the current one (closed again when the student moves on). */
let autoOpen = "";

const who = () => `access_key=${encodeURIComponent(session.credentials.accessKey)}&region=${encodeURIComponent(session.region)}`;

/** A lab read through the admin API: signed (a classroom knows the student by it) and with the
 * admin token when one was given. */
const getJson = (path) => admin(`lab${path}`);

const text = (x) => (x ? x[getLang()] || x.en : "");

/** The lab open in the panel (kept for the tab), or none. */
export const openLab = () => localStorage.getItem("updraft.lab") || "";

export function setLab(id) {
  if (id) localStorage.setItem("updraft.lab", id);
  else localStorage.removeItem("updraft.lab");
  lab = null;
  show();
}

function copy(cli, button) {
  const done = () => { button.textContent = t("lab.copied"); setTimeout(() => { button.textContent = t("lab.copy"); }, 1500); };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(cli).then(done, done);
  else {
    const area = h("textarea", {}, cli);
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
    done();
  }
}

/** Run the step's calls one by one; the server fills each call in from the state just before. */
async function doIt(step, log, button) {
  if (busy) return;
  busy = true;
  button.disabled = true;
  clear(log);
  try {
    for (let n = 0; ; n++) {
      const call = await getJson(`/${lab.id}/steps/${step.id}/calls/${n}?${who()}`);
      const line = h("li", { class: "running" }, call.shown);
      log.append(line);
      if (call.admin) await admin(call.admin, call.body);
      else await query(call.service, call.operation, Object.fromEntries(call.form));
      line.className = "ok";
      line.prepend("✓ ");
      if (n + 1 >= call.count) break;
    }
    log.append(h("li", { class: "ok", "data-done": "1" }, t("lab.allDone")));
  } catch (err) {
    log.append(errorBox(err));
  } finally {
    busy = false;
    button.disabled = false;
    poll();
  }
}

function stepNode(step, i) {
  const log = h("ol", { class: "lab-log", "aria-live": "polite" });
  const doButton = h("button", { class: "primary", "data-act": "do-it" }, t("lab.doIt"));
  doButton.addEventListener("click", () => doIt(step, log, doButton));
  const cli = step.cli.join("\n");
  const copyButton = h("button", { "data-act": "copy" }, t("lab.copy"));
  copyButton.addEventListener("click", () => copy(cli, copyButton));
  const state = h("span", { class: "lab-state" }, t("lab.pending"));
  const found = h("div", { class: "lab-found muted" });
  const node = h("details", { class: "lab-step", "data-step": step.id, open: openSteps.has(step.id) ? true : undefined },
    h("summary", {}, h("span", { class: "lab-num" }, `${i + 1}`), " ", text(step.title), " ", state),
    found,
    h("p", {}, text(step.why)),
    h("p", {}, h("a", { href: step.page, class: "lab-page" }, t("lab.page")), " ", h("code", {}, step.page)),
    step.cli.length ? [h("div", { class: "lab-cli-head" }, h("strong", {}, t("lab.cli")), " ", copyButton), h("pre", { class: "lab-cli" }, cli)] : null,
    step.calls.length ? [doButton, log] : h("p", { class: "muted" }, t("lab.wait")),
    h("details", { class: "lab-check" }, h("summary", {}, t("lab.check")), h("ul", {}, step.check.map((c) => h("li", {}, h("code", {}, c.text))))));
  node.addEventListener("toggle", () => { if (node.open) openSteps.add(step.id); else openSteps.delete(step.id); });
  return { node, state, found };
}

function update(status) {
  let current = null;
  for (const s of status.steps) {
    const v = steps.get(s.id);
    if (!v) continue;
    v.node.classList.toggle("done", s.done);
    v.node.dataset.done = s.done ? "1" : "";
    v.state.textContent = s.done ? `✓ ${t("lab.done")}` : t("lab.pending");
    const names = s.found.length ? t("lab.found", { names: s.found.join(", ") }) : "";
    v.found.textContent = [names, s.first_done ? t("lab.doneAt", { when: when(s.first_done) }) : ""].filter(Boolean).join(" · ");
    if (!s.done && !current) current = s.id;
  }
  for (const [id, v] of steps) v.node.classList.toggle("current", id === current);
  const bar = panel.querySelector(".lab-progress");
  if (bar) bar.textContent = t("lab.progress", { done: status.steps.filter((s) => s.done).length, total: status.steps.length });
  if (current !== autoOpen) {
    const before = steps.get(autoOpen);
    if (before && before.node.classList.contains("done")) before.node.open = false;
    autoOpen = current || "";
    if (current) steps.get(current).node.open = true;
  }
}

async function poll() {
  if (!lab) return;
  try {
    update(await getJson(`/${lab.id}/status?${who()}`));
  } catch (err) {
    console.warn("lab status", err);
  }
}

async function show() {
  if (!panel) return;
  clearInterval(timer);
  timer = null;
  const id = openLab();
  document.body.classList.toggle("lab-open", !!id);
  panel.hidden = !id;
  if (!id) { clear(panel); return; }
  try {
    if (!lab || lab.id !== id || lang !== getLang()) {
      lab = await getJson(`/${encodeURIComponent(id)}`);
      lang = getLang();
      steps = new Map();
      autoOpen = "";
      lab.steps.forEach((s, i) => steps.set(s.id, stepNode(s, i)));
    }
  } catch (err) {
    clear(panel, errorBox(err));
    return;
  }
  clear(panel,
    h("div", { class: "lab-head" }, h("h2", {}, text(lab.title)),
      h("button", { id: "lab-close", "aria-label": t("lab.close"), onclick: () => setLab("") }, "×")),
    h("p", { class: "lab-progress muted" }),
    h("p", { class: "muted" }, text(lab.intro)),
    h("div", { id: "lab-steps" }, [...steps.values()].map((v) => v.node)));
  await poll();
  timer = setInterval(poll, 2000);
}

/** Mount the panel (app.js calls it once) and show the open lab, if any. */
export function mountLab(el) {
  panel = el;
  show();
}

/** Re-render (language or region changed). */
export const rerenderLab = show;

/** The #/lab page: the labs, each opening in the side panel. */
export async function page(main) {
  const list = await getJson("");
  main.append(h("h1", {}, t("lab.title")), h("p", {}, t("lab.pageIntro")),
    h("ul", { id: "labs", class: "lab-list" }, list.map((l) =>
      h("li", {}, h("button", { class: l.id === openLab() ? "primary" : "", "data-lab": l.id, onclick: () => { setLab(l.id); main.querySelectorAll("[data-lab]").forEach((b) => { b.className = b.dataset.lab === l.id ? "primary" : ""; }); } }, text(l.title))))));
}

// The workshop bar: the virtual clock, its speed (1×, 10×, 60×, frozen) and "advance" buttons,
// through the admin API /_updraft/clock. The clock display follows the change stream. When the
// server has `--admin-token`, changing the clock (and stress, the inbox) needs it: the bar holds
// a token field, kept in sessionStorage and sent as X-Updraft-Admin-Token.
import { admin, session } from "./api.js";
import { h, clear, errorBox, locale } from "./dom.js";
import { t } from "./i18n.js";
import { subscribe } from "./events.js";

let clock = { now: "", scale: 1 };
let bar;
let error;
let tokenOpen = false;

/** The token's field: opened by its button, or by an admin call refused for want of it. */
function tokenForm() {
  const field = h("input", { id: "admin-token", type: "password", autocomplete: "off", "aria-label": t("workshop.token"), value: session.adminToken });
  const save = (e) => {
    e.preventDefault();
    session.adminToken = field.value.trim();
    tokenOpen = false;
    error = null;
    show();
    // The page re-reads with the token (the inbox needs it).
    window.dispatchEvent(new Event("updraft-admin-token"));
  };
  return h("form", { id: "admin-token-form", class: "inline", onsubmit: save }, field,
    h("button", { type: "submit", id: "admin-token-save" }, t("common.save")));
}

/** An admin call was refused (401 no token, 403 wrong one): say so and open the field. */
export function adminRefused(err) {
  if (!(err && err.admin && [401, 403].includes(err.status)) || err.code === "TeacherOnly") return false;
  tokenOpen = true;
  show();
  return true;
}

function show() {
  if (!bar) return;
  const speeds = [[1, "1×"], [10, "10×"], [60, "60×"], [0, t("workshop.frozen")]];
  clear(bar,
    h("strong", {}, t("workshop.title")),
    h("span", {}, t("workshop.clock")),
    h("span", { class: "clock", id: "clock-now" }, clock.now ? new Date(clock.now).toLocaleString(locale()) : "…"),
    h("span", { class: "muted" }, t("workshop.speed")),
    speeds.map(([s, label]) => h("button", { "aria-pressed": String(clock.scale === s), "data-speed": s, onclick: () => change({ scale: s }) }, label)),
    h("button", { "data-advance": 60, onclick: () => advance(60) }, t("workshop.advance1")),
    h("button", { "data-advance": 300, onclick: () => advance(300) }, t("workshop.advance5")),
    h("button", { id: "admin-token-toggle", "aria-expanded": String(tokenOpen), onclick: () => { tokenOpen = !tokenOpen; show(); } },
      session.adminToken ? t("workshop.tokenSet") : t("workshop.token")),
    tokenOpen ? tokenForm() : null,
    error ? errorBox(error) : null);
}

async function change(body) {
  try {
    clock = await admin("clock", body);
    error = null;
  } catch (err) {
    error = err;
    if (err.admin && [401, 403].includes(err.status) && err.code !== "TeacherOnly") tokenOpen = true;
  }
  if (body.scale !== undefined || error) show();
  else {
    const c = document.getElementById("clock-now");
    if (c) c.textContent = new Date(clock.now).toLocaleString(locale());
  }
}

/**
 * Advance in 5-second steps with a breath between them, so every controller (health checks,
 * alarm periods, cooldowns) sees the time pass as it would, not one jump.
 */
async function advance(seconds) {
  if (window.__advancing) return;
  window.__advancing = true;
  try {
    for (let done = 0; done < seconds; done += 5) {
      await change({ advance_seconds: Math.min(5, seconds - done) });
      if (error) break;
      await new Promise((r) => setTimeout(r, 15));
    }
  } finally {
    window.__advancing = false;
  }
}

export async function mountWorkshop(el) {
  bar = el;
  subscribe((kind, n) => {
    if (n.now) {
      clock = { now: new Date(n.now * 1000).toISOString(), scale: n.scale };
      const c = document.getElementById("clock-now");
      if (c) c.textContent = new Date(clock.now).toLocaleString(locale());
      if (kind === "hello") show();
    }
  });
  try { clock = await admin("clock"); } catch (err) { error = err; }
  show();
}

export const rerenderWorkshop = show;

/** Set an instance's CPU stress (0 clears): the stand-in for `yes > /dev/null`. */
export const stress = (id, cpu) => admin(`instances/${encodeURIComponent(id)}/stress`, { cpu_percent: cpu })
  .catch((err) => { adminRefused(err); throw err; });

/** The virtual time, epoch seconds (metric graphs ask for windows around it). */
export const clockNow = () => (clock.now ? Date.parse(clock.now) / 1000 : Date.now() / 1000);

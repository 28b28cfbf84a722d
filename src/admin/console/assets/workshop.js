// The workshop bar: the virtual clock, its speed (1×, 10×, 60×, frozen) and "advance" buttons,
// through the admin API /_updraft/clock. The clock display follows the change stream.
import { admin } from "./api.js";
import { h, clear, errorBox, locale } from "./dom.js";
import { t } from "./i18n.js";
import { subscribe } from "./events.js";

let clock = { now: "", scale: 1 };
let bar;
let error;

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
    error ? errorBox(error) : null);
}

async function change(body) {
  try {
    clock = await admin("clock", body);
    error = null;
  } catch (err) {
    error = err;
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
export const stress = (id, cpu) => admin(`instances/${encodeURIComponent(id)}/stress`, { cpu_percent: cpu });

/** The virtual time, epoch seconds (metric graphs ask for windows around it). */
export const clockNow = () => (clock.now ? Date.parse(clock.now) / 1000 : Date.now() / 1000);

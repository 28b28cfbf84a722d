// The teacher board (`#/teacher`, served also as /_updraft/console/teacher/), classroom mode
// only, teacher's credentials only: one row per student with their lab progress, counts of
// their resources and how long since their last API write (stuck ones highlighted), and a
// read-only peek at one student's resources. Calls: GET /_updraft/classroom/board, GET
// /_updraft/classroom/peek?account=…, GET /_updraft/lab/progress?account=… (when the server
// has labs; "—" otherwise). The room's clock is the workshop bar above, shared by everyone.
import { admin } from "../api.js";
import { h, clear, table, errorBox, state, note } from "../dom.js";
import { t, getLang } from "../i18n.js";

/** Seconds between refreshes besides change notices (students' writes are in other accounts). */
const POLL_MS = 5000;
/** After a 404 from the lab endpoint, don't ask again for this long. */
const LAB_RETRY_MS = 60000;

let peeked = "";
let labMissingUntil = 0;

/** Each student's lab progress, or null where the server has none. */
async function progressOf(rows) {
  if (Date.now() < labMissingUntil) return {};
  const out = {};
  await Promise.all(rows.map(async (r) => {
    try {
      out[r.account] = await admin(`lab/progress?account=${r.account}`);
    } catch (err) {
      if (err.status === 404) labMissingUntil = Date.now() + LAB_RETRY_MS;
      else throw err;
    }
  }));
  return out;
}

function progressText(p) {
  if (!p || !p.steps_total) return "—";
  const step = p.current_step ? ` · ${getLang() === "ko" ? p.current_step.title_ko : p.current_step.title_en}` : "";
  return `${p.steps_done}/${p.steps_total}${step}`;
}

function idleText(r) {
  if (!r.active) return t("teacher.never");
  const m = Math.floor(r.idle_seconds / 60);
  return m < 1 ? t("teacher.justNow") : t("teacher.minutesAgo", { n: m });
}

const finished = (p) => p && p.steps_total > 0 && p.steps_done >= p.steps_total;

function boardTable(board, labs, onpeek) {
  const count = (k) => ({ label: t(`teacher.col.${k}`), get: (r) => h("span", { "data-count": k }, String(r[k])) });
  const columns = [
    { label: t("teacher.col.student"), get: (r) => r.name },
    { label: t("teacher.col.account"), get: (r) => r.account },
    { label: t("teacher.col.lab"), get: (r) => h("span", { "data-lab": "" }, progressText(labs[r.account])) },
    count("instances_running"), count("groups"), count("alarms_in_alarm"), count("load_balancers"),
    { label: t("teacher.col.idle"), get: (r) => h("span", { "data-idle": "" }, idleText(r)) },
    { label: "", get: (r) => h("button", { "data-peek": r.account, onclick: (e) => { e.stopPropagation(); onpeek(r.account); } }, t("teacher.peek")) },
  ];
  const tb = table(columns, board.students, { id: (r) => r.account, selected: peeked, onselect: onpeek, class: "teacher-board" });
  // Stuck: idle past --stuck-minutes, unless the lab says they are done.
  board.students.forEach((r, i) => {
    if (r.stuck && !finished(labs[r.account])) tb.tBodies[0].rows[i].classList.add("stuck");
  });
  return tb;
}

function peekPanel(p) {
  const named = (rows, kind) => table([
    { label: t("teacher.col.region"), get: (x) => x.region },
    { label: t("teacher.col.name"), get: (x) => x.name },
    { label: t(kind), get: (x) => state(x.state) },
  ], rows);
  return h("div", { class: "panel", id: "teacher-peek", "data-account": p.account },
    h("h2", {}, t("teacher.peekTitle", { account: p.account })),
    h("h3", {}, t("nav.instances")),
    table([
      { label: t("teacher.col.region"), get: (x) => x.region },
      { label: "ID", get: (x) => x.id },
      { label: t("teacher.col.name"), get: (x) => x.name },
      { label: t("teacher.state"), get: (x) => state(x.state) },
    ], p.instances),
    h("h3", {}, t("nav.asgs")),
    table([
      { label: t("teacher.col.region"), get: (x) => x.region },
      { label: t("teacher.col.name"), get: (x) => x.name },
      { label: t("asg.desired"), get: (x) => String(x.desired) },
      { label: t("asg.min"), get: (x) => String(x.min) },
      { label: t("asg.max"), get: (x) => String(x.max) },
      { label: t("nav.instances"), get: (x) => String(x.instances) },
    ], p.groups),
    h("h3", {}, t("nav.alarms")), named(p.alarms, "teacher.state"),
    h("h3", {}, t("nav.lb")), named(p.load_balancers, "teacher.kind"));
}

export async function page(root) {
  const top = h("div");
  const body = h("div", { id: "teacher" });
  const side = h("div");
  root.append(h("h1", {}, t("teacher.title")), top, body, side);

  const load = async () => {
    const board = await admin("classroom/board");
    const labs = await progressOf(board.students);
    clear(top, h("p", { class: "muted" }, t("teacher.intro", { n: board.stuck_minutes })));
    clear(body, boardTable(board, labs, (account) => { peeked = account; safeRefresh(); }));
    if (peeked) clear(side, peekPanel(await admin(`classroom/peek?account=${peeked}`)));
  };
  let running = null;
  const refresh = () => (running ||= load().finally(() => { running = null; }));
  const safeRefresh = () => refresh().catch((err) => shown(err));
  const shown = (err) => {
    if (err && err.admin && [401, 403, 404].includes(err.status)) {
      clear(body, note(t(err.status === 404 ? "teacher.off" : "teacher.only")), h("div", { id: "teacher-refused" }, errorBox(err)));
    } else clear(side, errorBox(err));
  };
  try { await refresh(); } catch (err) { shown(err); }
  const timer = setInterval(safeRefresh, POLL_MS);
  return { refresh: safeRefresh, dispose: () => clearInterval(timer) };
}

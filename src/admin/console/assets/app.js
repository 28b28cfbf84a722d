// The console shell: header (region, account, language, large text, sign-in), navigation,
// the workshop bar, and the router that mounts one page module at a time. Pages re-read
// through the API when the change stream sends a notice.
import { session, ApiError, ec2 } from "./api.js";
import { h, clear, errorBox, typingIn } from "./dom.js";
import { t, getLang, setLang, missingKeys, allKeys } from "./i18n.js";
import { route, start, current, go } from "./router.js";
import { connect, subscribe } from "./events.js";
import { mountWorkshop, rerenderWorkshop, adminRefused } from "./workshop.js";
import * as instances from "./pages/instances.js";
import * as launch from "./pages/launch.js";
import * as amis from "./pages/amis.js";
import * as keypairs from "./pages/keypairs.js";
import * as secgroups from "./pages/secgroups.js";
import * as elb from "./pages/elb.js";
import * as elbv2 from "./pages/elbv2.js";
import * as lc from "./pages/lc.js";
import * as lt from "./pages/lt.js";
import * as asg from "./pages/asg.js";
import * as asgWizard from "./pages/asg_wizard.js";
import * as alarms from "./pages/alarms.js";
import * as snsPages from "./pages/sns.js";
import * as metrics from "./pages/metrics.js";
import * as dashboards from "./pages/dashboards.js";
import * as loop from "./pages/loop.js";
import * as teacher from "./pages/teacher.js";
import { mountLab, rerenderLab, page as labPage } from "./lab.js";

const REGIONS = ["ap-northeast-1", "ap-northeast-2", "us-east-1", "us-west-2", "eu-west-1"];
const NAV = [
  ["EC2", [["nav.instances", "/ec2/instances"], ["nav.launch", "/ec2/launch"], ["nav.amis", "/ec2/amis"], ["nav.keypairs", "/ec2/keypairs"], ["nav.secgroups", "/ec2/secgroups"]]],
  ["nav.lb", [["nav.elb", "/elb"], ["nav.alb", "/elbv2/albs"], ["nav.tgs", "/elbv2/tgs"]]],
  ["Auto Scaling", [["nav.lcs", "/asg/lcs"], ["nav.lts", "/asg/lts"], ["nav.asgs", "/asg/groups"], ["nav.loop", "/loop"], ["nav.lab", "/lab"]]],
  ["CloudWatch", [["nav.alarms", "/cw/alarms"], ["nav.metrics", "/cw/metrics"], ["nav.dashboards", "/cw/dashboards"]]],
  ["SNS", [["nav.topics", "/sns/topics"], ["nav.inbox", "/sns/inbox"]]],
  ["nav.classroom", [["nav.teacher", "/teacher"]]],
];

route("/ec2/instances", instances.list);
route("/ec2/instances/:id", instances.detail);
route("/ec2/launch", launch.page);
route("/ec2/amis", amis.page);
route("/ec2/keypairs", keypairs.page);
route("/ec2/secgroups", secgroups.page);
route("/elb", elb.list);
route("/elb/new", elb.create);
route("/elb/:name", elb.detail);
route("/elbv2/albs", elbv2.albs);
route("/elbv2/tgs", elbv2.targetGroups);
route("/asg/lcs", lc.list);
route("/asg/lcs/new", lc.create);
route("/asg/lts", lt.list);
route("/asg/lts/new", lt.create);
route("/asg/lts/:id", lt.detail);
route("/asg/groups", asg.list);
route("/asg/groups/new", asgWizard.page);
route("/asg/groups/:name", asg.detail);
route("/cw/alarms", alarms.list);
route("/cw/alarms/:name", alarms.detail);
route("/cw/metrics", metrics.page);
route("/cw/dashboards", dashboards.list);
route("/cw/dashboards/:name", dashboards.detail);
route("/sns/topics", snsPages.topics);
route("/sns/inbox", snsPages.inbox);
route("/loop", loop.page);
route("/teacher", teacher.page);
route("/lab", labPage);
route("/signin", signIn);
route("/i18n", catalogueCheck);

let account = "";
let mounted = null;

function header() {
  const top = document.getElementById("top");
  clear(top,
    h("span", { class: "brand" }, t("app.title")),
    h("label", { for: "region" }, t("app.region")),
    h("select", { id: "region", onchange: (e) => { session.region = e.target.value; connect(); render(); } },
      REGIONS.map((r) => h("option", { value: r, selected: r === session.region ? true : undefined }, `${r} (${t(`region.${r}`)})`))),
    h("span", { id: "account" }, t("app.account", { account: account || "…" })),
    h("select", { id: "lang", "aria-label": t("app.language"), onchange: (e) => { setLang(e.target.value); render(); } },
      h("option", { value: "ko", selected: getLang() === "ko" ? true : undefined }, "한국어"),
      h("option", { value: "en", selected: getLang() === "en" ? true : undefined }, "English")),
    h("button", { id: "large-text", "aria-pressed": String(document.body.classList.contains("large")), onclick: toggleLarge }, t("app.largeText")),
    session.signedIn ? h("button", { id: "sign-out", onclick: () => { session.signOut(); connect(); go("/signin"); } }, t("app.signOut")) : null);
}

function toggleLarge() {
  const on = document.body.classList.toggle("large");
  localStorage.setItem("updraft.large", on ? "1" : "");
  header();
}

function nav(path) {
  clear(document.getElementById("nav"), NAV.map(([group, items]) => [
    h("h3", {}, group.startsWith("nav.") ? t(group) : group),
    items.map(([key, p]) => h("a", { href: `#${p}`, class: path === p || path.startsWith(`${p}/`) ? "active" : "" }, t(key))),
  ]));
}

async function render() {
  header();
  nav(current().path);
  rerenderWorkshop();
  rerenderLab();
  await show(current());
}

async function show({ page, params, path }) {
  nav(path);
  const main = document.getElementById("main");
  if (mounted && mounted.dispose) mounted.dispose();
  mounted = null;
  if (!page) {
    clear(main, h("h1", {}, t("app.notFound")));
    return;
  }
  clear(main);
  try {
    mounted = (await page(main, params)) || {};
    // Milliseconds from navigation to the first page drawn with its data (the figure the
    // browser tests print).
    if (window.__firstUsableMs === undefined) window.__firstUsableMs = performance.now();
  } catch (err) {
    // A refused signature means signing in; a refused admin call means the admin token (the
    // workshop bar opens its field).
    if (err instanceof ApiError && !err.admin && [403, 401].includes(err.status)) {
      go("/signin");
      return;
    }
    adminRefused(err);
    main.append(errorBox(err));
  }
}

let pending = null;
let lastTick = 0;
/** Someone is filling in a form on the page: a re-render now would lose what they entered. */
function editing() {
  const main = document.querySelector("main");
  return !!main && typingIn(main);
}

function refreshSoon() {
  if (pending) return;
  pending = setTimeout(async () => {
    pending = null;
    if (editing()) {
      refreshSoon();
      return;
    }
    if (mounted && mounted.refresh) {
      try { await mounted.refresh(); } catch (err) { console.warn("refresh failed", err); }
    }
  }, 150);
}

function signIn(main) {
  const ak = h("input", { name: "AccessKeyId", autocomplete: "username" });
  const sk = h("input", { name: "SecretAccessKey", type: "password", autocomplete: "current-password" });
  const token = h("input", { name: "AdminToken", type: "password", autocomplete: "off", value: session.adminToken });
  const out = h("div");
  const submit = async (e) => {
    e.preventDefault();
    session.adminToken = token.value.trim();
    rerenderWorkshop();
    session.signIn(ak.value.trim(), sk.value);
    try {
      await ec2("DescribeRegions");
      connect();
      go("/ec2/instances");
    } catch (err) {
      session.signOut();
      clear(out, errorBox(err));
    }
  };
  main.append(h("h1", {}, t("signin.title")), h("p", {}, t("signin.intro")),
    h("form", { class: "form", onsubmit: submit },
      h("label", { for: "ak" }, t("signin.accessKey")), Object.assign(ak, { id: "ak" }),
      h("label", { for: "sk" }, t("signin.secretKey")), Object.assign(sk, { id: "sk" }),
      h("label", { for: "signin-token" }, t("signin.adminToken")), h("div", {}, Object.assign(token, { id: "signin-token" }), " ",
        h("span", { class: "muted" }, t("signin.adminTokenHint"))),
      h("span"), h("button", { class: "primary", type: "submit", id: "signin-submit" }, t("signin.submit"))), out);
}

function catalogueCheck(main) {
  const missing = missingKeys();
  main.append(h("h1", {}, "i18n"), h("p", { id: "i18n-result" }, missing.length ? `missing: ${missing.join(", ")}` : `ok ${allKeys().length}`));
}

if (localStorage.getItem("updraft.large")) document.body.classList.add("large");
subscribe((kind, n) => {
  if (kind === "hello") {
    account = n.account;
    const a = document.getElementById("account");
    if (a) a.textContent = t("app.account", { account });
  } else if (kind === "change") refreshSoon();
  else if (kind === "clock" && Date.now() - lastTick > 2000) {
    lastTick = Date.now();
    refreshSoon();
  }
});
window.addEventListener("updraft-admin-token", () => show(current()));
connect();
mountWorkshop(document.getElementById("workshop"));
mountLab(document.getElementById("lab-panel"));
start((r) => { header(); show(r); });

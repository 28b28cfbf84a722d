// A Classic load balancer's Listeners tab (stickiness per HTTP/HTTPS listener:
// CreateLBCookieStickinessPolicy / CreateAppCookieStickinessPolicy, then
// SetLoadBalancerPoliciesOfListener) and Attributes tab (connection draining, cross-zone load
// balancing, idle timeout: ModifyLoadBalancerAttributes). Policy names follow the console's
// pattern, AWSConsole-<Type>-<load balancer>-<milliseconds>.
import { elb, arr, steps } from "../api.js";
import { h, clear, table, errorBox, note, field, input, keepEdits } from "../dom.js";
import { t } from "../i18n.js";

/**
 * A settings form being filled in: marked on the first edit (dom.js `keepEdits`), so a live
 * refresh (elb.js) leaves it alone; saving re-renders it from the API.
 */
function settingsForm(attrs, ...children) {
  return keepEdits(h("form", { class: "form", ...attrs }, ...children));
}

const LB_COOKIE = "LBCookieStickinessPolicyType";
const APP_COOKIE = "AppCookieStickinessPolicyType";
const attr = (p, name) => (arr(p.PolicyAttributeDescriptions).find((a) => a.AttributeName === name) || {}).AttributeValue;

/** What a listener's stickiness is: {kind: none|lb|app, policy, expiration, cookie}. */
function stickiness(names, policies) {
  const p = names.map((n) => policies.find((x) => x.PolicyName === n)).find((x) => x && [LB_COOKIE, APP_COOKIE].includes(x.PolicyTypeName));
  if (!p) return { kind: "none" };
  return p.PolicyTypeName === LB_COOKIE
    ? { kind: "lb", policy: p.PolicyName, expiration: attr(p, "CookieExpirationPeriod") || "" }
    : { kind: "app", policy: p.PolicyName, cookie: attr(p, "CookieName") || "" };
}

function stickinessText(s) {
  if (s.kind === "lb") return s.expiration && s.expiration !== "0" ? t("elb.stickyLbFor", { s: s.expiration }) : t("elb.stickyLb");
  if (s.kind === "app") return t("elb.stickyAppNamed", { cookie: s.cookie });
  return t("elb.stickyNone");
}

function stickinessForm(name, listener, names, current, reload, out) {
  const port = listener.LoadBalancerPort;
  const radio = (value) => h("input", { type: "radio", name: `Stickiness-${port}`, value, checked: current.kind === value });
  const kinds = { none: radio("none"), lb: radio("lb"), app: radio("app") };
  const expiration = input("CookieExpirationPeriod", current.expiration || "", { type: "number" });
  const cookie = input("CookieName", current.cookie || "");
  const save = async (e) => {
    e.preventDefault();
    const kind = Object.keys(kinds).find((k) => kinds[k].checked) || "none";
    // Keep the listener's other policies (SSL negotiation…); only the stickiness one changes.
    const others = names.filter((n) => n !== current.policy);
    const policy = `AWSConsole-${kind === "lb" ? "LBCookieStickinessPolicy" : "AppCookieStickinessPolicy"}-${name}-${Date.now()}`;
    const set = (list) => elb("SetLoadBalancerPoliciesOfListener", { LoadBalancerName: name, LoadBalancerPort: port,
      ...(list.length ? Object.fromEntries(list.map((n, i) => [`PolicyNames.member.${i + 1}`, n])) : { PolicyNames: [] }) });
    try {
      if (kind === "none") await steps([["SetLoadBalancerPoliciesOfListener", () => set(others)]]);
      else {
        await steps([
          kind === "lb"
            ? ["CreateLBCookieStickinessPolicy", () => elb("CreateLBCookieStickinessPolicy", { LoadBalancerName: name, PolicyName: policy, CookieExpirationPeriod: expiration.value })]
            : ["CreateAppCookieStickinessPolicy", () => elb("CreateAppCookieStickinessPolicy", { LoadBalancerName: name, PolicyName: policy, CookieName: cookie.value })],
          ["SetLoadBalancerPoliciesOfListener", () => set([...others, policy])],
        ]);
      }
      clear(out, note(t("elb.settingsSaved")));
      await reload();
    } catch (err) { clear(out, errorBox(err)); }
  };
  return h("div", { class: "panel" }, h("h2", {}, t("elb.stickinessOf", { port: `${listener.Protocol}:${port}` })),
    settingsForm({ id: `sticky-form-${port}`, onsubmit: save },
    h("span", {}, t("elb.stickiness")),
    h("div", {},
      h("label", { class: "radio-row" }, kinds.none, t("elb.stickyNone")),
      h("label", { class: "radio-row" }, kinds.lb, t("elb.stickyLb")),
      h("label", { class: "radio-row" }, kinds.app, t("elb.stickyApp"))),
    ...field(t("elb.cookieExpiration"), expiration, t("elb.cookieExpirationHint")),
    ...field(t("elb.cookieName"), cookie),
    h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: `sticky-save-${port}` }, t("common.save")))));
}

/** The Listeners tab: each listener with its stickiness, and a form per HTTP/HTTPS listener. */
export async function listenersPane(b, reload, out) {
  const name = b.LoadBalancerName;
  const r = await elb("DescribeLoadBalancerPolicies", { LoadBalancerName: name });
  const policies = arr(r.PolicyDescriptions);
  const listeners = arr(b.ListenerDescriptions).map((l) => ({ ...l, names: arr(l.PolicyNames) }));
  const pane = h("div", { id: "elb-listeners" }, table([
    { label: t("elb.listener"), get: (l) => `${l.Listener.Protocol}:${l.Listener.LoadBalancerPort} → ${l.Listener.InstanceProtocol}:${l.Listener.InstancePort}` },
    { label: t("elb.stickiness"), get: (l) => stickinessText(stickiness(l.names, policies)) },
    { label: t("elb.policies"), get: (l) => l.names.join(", ") },
  ], listeners, { id: (l) => String(l.Listener.LoadBalancerPort) }));
  for (const l of listeners) {
    if (["HTTP", "HTTPS"].includes(l.Listener.Protocol)) {
      pane.append(stickinessForm(name, l.Listener, l.names, stickiness(l.names, policies), reload, out));
    }
  }
  return pane;
}

/** The Attributes tab: connection draining, cross-zone load balancing, idle timeout. */
export async function attributesPane(name, reload, out) {
  const r = await elb("DescribeLoadBalancerAttributes", { LoadBalancerName: name });
  const a = r.LoadBalancerAttributes || {};
  const draining = a.ConnectionDraining || {};
  const on = (v) => String(v) === "true";
  const drain = h("input", { type: "checkbox", name: "ConnectionDraining", checked: on(draining.Enabled) });
  const timeout = input("ConnectionDrainingTimeout", draining.Timeout || "300", { type: "number" });
  const cross = h("input", { type: "checkbox", name: "CrossZoneLoadBalancing", checked: on((a.CrossZoneLoadBalancing || {}).Enabled) });
  const idle = input("IdleTimeout", (a.ConnectionSettings || {}).IdleTimeout || "60", { type: "number" });
  const save = async (e) => {
    e.preventDefault();
    const p = "LoadBalancerAttributes";
    try {
      await elb("ModifyLoadBalancerAttributes", { LoadBalancerName: name,
        [`${p}.ConnectionDraining.Enabled`]: String(drain.checked), [`${p}.ConnectionDraining.Timeout`]: timeout.value,
        [`${p}.CrossZoneLoadBalancing.Enabled`]: String(cross.checked), [`${p}.ConnectionSettings.IdleTimeout`]: idle.value });
      clear(out, note(t("elb.settingsSaved")));
      await reload();
    } catch (err) { clear(out, errorBox(err)); }
  };
  const status = on(draining.Enabled) ? t("elb.drainingOn", { s: draining.Timeout }) : t("elb.drainingOff");
  return h("div", { id: "elb-attributes" },
    h("p", { id: "draining-status" }, `${t("elb.draining")}: ${status}`),
    h("div", { class: "panel" }, settingsForm({ id: "attrs-form", onsubmit: save },
      ...field(t("elb.draining"), drain, t("elb.drainingEnable")),
      ...field(t("elb.drainingTimeout"), timeout),
      ...field(t("elb.crossZone"), cross, t("elb.crossZoneEnable")),
      ...field(t("elb.idleTimeout"), idle),
      h("span"), h("div", {}, h("button", { class: "primary", type: "submit", id: "attrs-save" }, t("common.save"))))));
}

// An Application Load Balancer's listeners and rules (ELBv2): the listeners with their default
// action (DescribeListeners), one listener's rules by priority with their conditions and actions
// (DescribeRules); create a listener (CreateListener) or a rule (CreateRule: path-pattern and
// host-header conditions) whose action forwards to a target group, redirects or returns a fixed
// response; delete a rule (DeleteRule) or a listener (DeleteListener). AWS's errors inline.
import { elbv2, arr } from "../api.js";
import { h, clear, table, errorBox, note, field, input, select } from "../dom.js";
import { t } from "../i18n.js";

const tgName = (arn) => (arn || "").split("/")[1] || arn;

/** One action as a line: "forward → web", "redirect HTTP_301 → HTTPS://#{host}:443/#{path}". */
export function describeAction(a) {
  if (a.Type === "forward") {
    const groups = a.ForwardConfig ? arr(a.ForwardConfig.TargetGroups).map((g) => g.TargetGroupArn) : [a.TargetGroupArn];
    return `${t("rule.forward")} → ${groups.filter(Boolean).map(tgName).join(", ")}`;
  }
  if (a.Type === "redirect") {
    const r = a.RedirectConfig || {};
    return `${t("rule.redirect")} ${r.StatusCode} → ${r.Protocol}://${r.Host}:${r.Port}${r.Path}${r.Query ? `?${r.Query}` : ""}`;
  }
  if (a.Type === "fixed-response") {
    const f = a.FixedResponseConfig || {};
    return `${t("rule.fixed")} ${f.StatusCode}${f.ContentType ? ` (${f.ContentType})` : ""}${f.MessageBody ? ` "${f.MessageBody}"` : ""}`;
  }
  return a.Type;
}

function describeCondition(c) {
  const cfg = c.Field === "path-pattern" ? c.PathPatternConfig : c.Field === "host-header" ? c.HostHeaderConfig : null;
  const values = arr(cfg && cfg.Values).length ? arr(cfg.Values) : arr(c.Values);
  return `${c.Field} = ${values.join(" | ")}`;
}

/**
 * The action part of a form: forward (target group), redirect (protocol, port, host, path,
 * status) or fixed response (status, content type, body). `params(prefix)` gives its query
 * parameters under e.g. "Actions.member.1".
 */
function actionEditor(id, groups) {
  const kind = select("ActionType", [["forward", t("rule.forward")], ["redirect", t("rule.redirect")], ["fixed-response", t("rule.fixed")]], "forward");
  const tg = select("TargetGroupArn", groups.map((g) => [g.TargetGroupArn, g.TargetGroupName]));
  const r = { Protocol: select("RedirectProtocol", ["#{protocol}", "HTTP", "HTTPS"], "HTTPS"), Port: input("RedirectPort", "443"),
    Host: input("RedirectHost", "#{host}"), Path: input("RedirectPath", "/#{path}"), StatusCode: select("RedirectStatus", ["HTTP_301", "HTTP_302"]) };
  const f = { StatusCode: input("FixedStatus", "200"), ContentType: select("FixedContentType", ["text/plain", "text/html", "application/json", "text/css", "application/javascript"]),
    MessageBody: h("textarea", { name: "FixedBody", rows: 2 }) };
  const parts = {
    forward: h("div", { class: "form" }, field(t("alb.forwardTo"), tg)),
    redirect: h("div", { class: "form" }, field(t("elb.protocol"), r.Protocol), field(t("tg.port"), r.Port), field(t("rule.host"), r.Host),
      field(t("rule.path"), r.Path), field(t("rule.status"), r.StatusCode)),
    "fixed-response": h("div", { class: "form" }, field(t("rule.status"), f.StatusCode), field(t("rule.contentType"), f.ContentType), field(t("rule.body"), f.MessageBody)),
  };
  Object.assign(kind, { id: `${id}-type` });
  const show = () => { for (const [k, node] of Object.entries(parts)) node.hidden = k !== kind.value; };
  kind.addEventListener("change", show);
  show();
  const params = (prefix) => {
    const out = { [`${prefix}.Type`]: kind.value };
    const put = (cfg, fields) => { for (const [k, el] of Object.entries(fields)) out[`${prefix}.${cfg}.${k}`] = el.value; };
    if (kind.value === "forward") out[`${prefix}.TargetGroupArn`] = tg.value;
    else if (kind.value === "redirect") put("RedirectConfig", r);
    else put("FixedResponseConfig", f);
    return out;
  };
  return { nodes: [h("div", { class: "form" }, field(t("rule.actionType"), kind)), Object.values(parts)], params };
}

const valuesOf = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);

/** The listeners and rules of load balancer `lb`: {node, refresh}. */
export async function listenersPanel(lb) {
  const groups = arr((await elbv2("DescribeTargetGroups")).TargetGroups);
  let selected = null;
  const out = h("div", { id: "listener-result" });
  const listeners = h("div", { id: "alb-listeners" });
  const rules = h("div", { id: "alb-rules" });
  const rulesTitle = h("h3");
  const fail = (err) => clear(out, errorBox(err));
  const act = async (fn, done) => {
    try { await fn(); clear(out, note(done)); await refresh(); } catch (err) { fail(err); }
  };

  const port = input("Port", "8080", { type: "number" });
  const listenerAction = actionEditor("listener-action", groups);
  const listenerForm = h("form", { class: "panel", id: "listener-form", onsubmit: (e) => {
    e.preventDefault();
    act(async () => {
      const r = await elbv2("CreateListener", { LoadBalancerArn: lb.LoadBalancerArn, Protocol: "HTTP", Port: port.value,
        ...listenerAction.params("DefaultActions.member.1") });
      selected = arr(r.Listeners)[0].ListenerArn;
    }, t("listener.created", { port: port.value }));
  } }, h("h3", {}, t("listener.add")), h("div", { class: "form" }, field(t("elb.protocol"), h("span", {}, "HTTP")), field(t("tg.port"), port)),
  listenerAction.nodes, h("button", { type: "submit", class: "primary", id: "listener-submit" }, t("listener.add")));

  const priority = input("Priority", "10", { type: "number", min: 1, max: 50000 });
  const path = input("PathPattern", "", { placeholder: "/api/*" });
  const host = input("HostHeader", "", { placeholder: "api.example.com" });
  const ruleAction = actionEditor("rule-action", groups);
  const ruleForm = h("form", { class: "panel", id: "rule-form", onsubmit: (e) => {
    e.preventDefault();
    const conditions = [["path-pattern", "PathPatternConfig", valuesOf(path.value)], ["host-header", "HostHeaderConfig", valuesOf(host.value)]]
      .filter(([, , v]) => v.length);
    const params = { ListenerArn: selected, Priority: priority.value, ...ruleAction.params("Actions.member.1") };
    conditions.forEach(([name, cfg, values], i) => {
      params[`Conditions.member.${i + 1}.Field`] = name;
      values.forEach((v, j) => { params[`Conditions.member.${i + 1}.${cfg}.Values.member.${j + 1}`] = v; });
    });
    act(() => elbv2("CreateRule", params), t("rule.created", { priority: priority.value }));
  } }, h("h3", {}, t("rule.add")), h("div", { class: "form" }, field(t("rule.priority"), priority),
    field(t("rule.pathPattern"), path, t("rule.valuesHint")), field(t("rule.hostHeader"), host, t("rule.valuesHint"))),
  ruleAction.nodes, h("button", { type: "submit", class: "primary", id: "rule-submit" }, t("rule.add")));
  const ruleSection = h("section", { id: "alb-rule-section" }, rulesTitle, rules, ruleForm);

  const refresh = async () => {
    const ls = arr((await elbv2("DescribeListeners", { LoadBalancerArn: lb.LoadBalancerArn })).Listeners);
    if (!ls.some((l) => l.ListenerArn === selected)) selected = ls.length ? ls[0].ListenerArn : null;
    clear(listeners, table([
      { label: t("elb.protocol"), get: (l) => `${l.Protocol}:${l.Port}` },
      { label: t("listener.defaultAction"), get: (l) => arr(l.DefaultActions).map(describeAction).join("; ") },
      { label: t("listener.rules"), get: (l) => h("button", { type: "button", "data-act": "rules", onclick: (e) => { e.stopPropagation(); selected = l.ListenerArn; refresh(); } }, t("listener.viewRules")) },
      { label: "", get: (l) => h("button", { type: "button", "data-act": "delete", onclick: (e) => {
        e.stopPropagation();
        act(() => elbv2("DeleteListener", { ListenerArn: l.ListenerArn }), t("listener.deleted", { port: l.Port }));
      } }, t("common.delete")) },
    ], ls, { id: (l) => l.Port, selected: ls.find((l) => l.ListenerArn === selected)?.Port,
      onselect: (_, l) => { selected = l.ListenerArn; refresh(); } }));
    ruleSection.hidden = !selected;
    if (!selected) return;
    const l = ls.find((x) => x.ListenerArn === selected);
    rulesTitle.textContent = t("rule.title", { port: l.Port });
    const rs = arr((await elbv2("DescribeRules", { ListenerArn: selected })).Rules);
    clear(rules, table([
      { label: t("rule.priority"), get: (r) => (r.IsDefault === "true" ? t("rule.default") : r.Priority) },
      { label: t("rule.conditions"), get: (r) => arr(r.Conditions).map(describeCondition).join("; ") || "-" },
      { label: t("alarm.actions"), get: (r) => arr(r.Actions).map(describeAction).join("; ") },
      { label: "", get: (r) => (r.IsDefault === "true" ? "" : h("button", { type: "button", "data-act": "delete", onclick: () =>
        act(() => elbv2("DeleteRule", { RuleArn: r.RuleArn }), t("rule.deleted", { priority: r.Priority })) }, t("common.delete"))) },
    ], rs, { id: (r) => r.Priority }));
  };
  const node = h("section", { id: "alb-detail" }, h("h2", {}, t("listener.title", { name: lb.LoadBalancerName })), out, listeners, listenerForm, ruleSection);
  await refresh();
  return { node, refresh };
}

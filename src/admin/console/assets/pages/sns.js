// SNS → Topics (ListTopics, CreateTopic, Subscribe, ListSubscriptionsByTopic, Publish) and the
// local e-mail inbox (admin API /_updraft/sns/inbox) with its confirm/unsubscribe links.
import { sns, arr, admin } from "../api.js";
import { h, clear, table, errorBox, note, field, input, select, when } from "../dom.js";
import { t } from "../i18n.js";

let selected = null;

export async function topics(root) {
  const out = h("div");
  const holder = h("div", { id: "topics" });
  const subs = h("div");
  const name = input("Name", "", { required: true });
  root.append(h("h1", {}, t("nav.topics")),
    h("form", { class: "panel form", id: "topic-form", onsubmit: async (e) => {
      e.preventDefault();
      try { selected = (await sns("CreateTopic", { Name: name.value })).TopicArn; name.value = ""; await load(); } catch (err) { clear(out, errorBox(err)); }
    } }, field(t("sns.topicName"), name), h("span"), h("div", {}, h("button", { class: "primary", type: "submit" }, t("sns.createTopic")))),
    out, holder, subs);
  const load = async () => {
    const r = await sns("ListTopics");
    const list = arr(r.Topics);
    clear(holder, table([{ label: t("sns.topic"), get: (x) => x.TopicArn }], list, { id: (x) => x.TopicArn, selected, onselect: (id) => { selected = id; load(); } }));
    clear(subs);
    if (!selected || !list.some((x) => x.TopicArn === selected)) return;
    const s = await sns("ListSubscriptionsByTopic", { TopicArn: selected });
    const proto = select("Protocol", ["email", "email-json", "http", "https", "sqs"], "email");
    const endpoint = input("Endpoint", "", { required: true });
    const subject = input("Subject");
    const message = h("textarea", { name: "Message" });
    subs.append(h("h2", {}, t("sns.subscriptionsOf", { topic: selected })),
      table([{ label: t("sns.protocol"), get: (x) => x.Protocol }, { label: t("sns.endpoint"), get: (x) => x.Endpoint },
        { label: t("sns.subscription"), get: (x) => (x.SubscriptionArn === "PendingConfirmation" ? t("sns.pending") : x.SubscriptionArn) }], arr(s.Subscriptions)),
      h("form", { class: "panel form", onsubmit: async (e) => {
        e.preventDefault();
        try { await sns("Subscribe", { TopicArn: selected, Protocol: proto.value, Endpoint: endpoint.value }); await load(); } catch (err) { clear(out, errorBox(err)); }
      } }, field(t("sns.protocol"), proto), field(t("sns.endpoint"), endpoint), h("span"), h("div", {}, h("button", { type: "submit" }, t("sns.subscribe")))),
      h("form", { class: "panel form", onsubmit: async (e) => {
        e.preventDefault();
        try { await sns("Publish", { TopicArn: selected, Subject: subject.value, Message: message.value }); clear(out, note(t("sns.published"))); } catch (err) { clear(out, errorBox(err)); }
      } }, field(t("sns.subject"), subject), field(t("sns.message"), message), h("span"), h("div", {}, h("button", { type: "submit" }, t("sns.publish")))));
  };
  await load();
  return { refresh: load };
}

export async function inbox(root) {
  const out = h("div");
  const holder = h("div", { id: "inbox" });
  root.append(h("h1", {}, t("nav.inbox")), h("p", { class: "muted" }, t("sns.inboxIntro")), out, holder);
  const follow = (url) => async () => {
    try {
      const resp = await fetch(new URL(url, location.href).pathname + new URL(url, location.href).search);
      const v = await resp.json();
      clear(out, resp.ok ? note(t("sns.linkDone")) : errorBox(`${v.code || resp.status}: ${v.error || ""}`));
      await load();
    } catch (err) { clear(out, errorBox(err)); }
  };
  const load = async () => {
    const mails = (await admin("sns/inbox")).slice().reverse();
    clear(holder, mails.length ? mails.map((m) => h("div", { class: "panel mail", "data-type": m.type },
      h("div", {}, h("strong", {}, m.subject || "(no subject)")),
      h("div", { class: "muted" }, `${when(m.timestamp)} · ${m.endpoint} · ${m.topic_arn}`),
      h("pre", { class: "mail" }, m.message),
      h("div", { class: "toolbar" },
        m.confirm_url ? h("button", { "data-act": "confirm", onclick: follow(m.confirm_url) }, t("sns.confirm")) : null,
        m.unsubscribe_url ? h("button", { "data-act": "unsubscribe", onclick: follow(m.unsubscribe_url) }, t("sns.unsubscribe")) : null)))
      : h("p", { class: "muted" }, t("common.empty")));
  };
  await load();
  return { refresh: load };
}

// The console's only way to AWS state: real API calls on this same origin. Query/ec2 forms
// with XML answers (parsed with DOMParser into plain objects), JSON 1.0 for CloudWatch, every
// call signed with SigV4 (so the region and account come from the credential scope, as for the
// CLI). Errors keep AWS's code and message. Also the admin API (clock, stress, inbox).
import { sign } from "./sigv4.js";

const QUERY = {
  ec2: { version: "2016-11-15", signing: "ec2" },
  autoscaling: { version: "2011-01-01", signing: "autoscaling" },
  elb: { version: "2012-06-01", signing: "elasticloadbalancing" },
  elbv2: { version: "2015-12-01", signing: "elasticloadbalancing" },
  sns: { version: "2010-03-31", signing: "sns" },
  // CloudWatch's query dialect, for the lab's "do it for me" (pages use JSON 1.0 below).
  cloudwatch: { version: "2010-08-01", signing: "monitoring" },
};

/** Access key used when nobody signed in (the server is not verifying signatures). */
export const ANONYMOUS = { accessKey: "updraft-console", secretKey: "updraft-console" };

export class ApiError extends Error {
  constructor(code, message, status) {
    super(`${code}: ${message}`);
    this.code = code;
    this.awsMessage = message;
    this.status = status;
  }
}

export const session = {
  get region() { return localStorage.getItem("updraft.region") || "ap-northeast-1"; },
  set region(r) { localStorage.setItem("updraft.region", r); },
  get credentials() {
    const accessKey = sessionStorage.getItem("updraft.accessKey");
    const secretKey = sessionStorage.getItem("updraft.secretKey");
    return accessKey && secretKey ? { accessKey, secretKey } : ANONYMOUS;
  },
  signIn(accessKey, secretKey) {
    sessionStorage.setItem("updraft.accessKey", accessKey);
    sessionStorage.setItem("updraft.secretKey", secretKey);
  },
  signOut() {
    sessionStorage.removeItem("updraft.accessKey");
    sessionStorage.removeItem("updraft.secretKey");
  },
  get signedIn() { return !!sessionStorage.getItem("updraft.accessKey"); },
  /** The server's `--admin-token` (clock, stress, inbox), kept for this tab only. */
  get adminToken() { return sessionStorage.getItem("updraft.adminToken") || ""; },
  set adminToken(v) {
    if (v) sessionStorage.setItem("updraft.adminToken", v);
    else sessionStorage.removeItem("updraft.adminToken");
  },
};

const ENTITIES = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
const decode = (s) => (s.includes("&") ? s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (m, e) =>
  (e[0] === "#" ? String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ENTITIES[e] ?? m)) : s);

/** A list when every child is `member`/`item`, else an object by child name. */
function build(kids) {
  if (kids.every(([n]) => n === "member" || n === "item")) return kids.map(([, v]) => v);
  const out = {};
  for (const [n, v] of kids) out[n] = v;
  return out;
}

/**
 * Parse an AWS XML answer into plain values: text for leaves, arrays for member/item lists,
 * objects otherwise. A small tokenizer of our own rather than DOMParser: a DescribeInstances
 * of 1,000 instances is megabytes, and building a DOM only to walk it once cost most of the
 * page's time. AWS answers have no CDATA, comments or mixed content to care about.
 */
export function parseXml(text) {
  const re = /<([/?!]?)([^\s/>]+)[^>]*?(\/?)>|([^<]+)/g;
  const stack = [{ name: "", kids: [], text: "" }];
  let m;
  while ((m = re.exec(text))) {
    const top = stack[stack.length - 1];
    if (m[4] !== undefined) top.text += m[4];
    else if (m[1] === "?" || m[1] === "!") continue;
    else if (m[1] === "/") {
      const f = stack.pop();
      stack[stack.length - 1].kids.push([f.name, f.kids.length ? build(f.kids) : decode(f.text)]);
    } else if (m[3] === "/") top.kids.push([m[2], ""]);
    else stack.push({ name: m[2], kids: [], text: "" });
  }
  const [name, value] = stack[0].kids[0] || ["", ""];
  return { name, value };
}

/** A list from a parsed value (an empty list element parses as ""). */
export const arr = (v) => (Array.isArray(v) ? v : []);

function xmlError(text, status) {
  const doc = new DOMParser().parseFromString(text, "application/xml");
  const code = doc.getElementsByTagName("Code")[0];
  const msg = doc.getElementsByTagName("Message")[0];
  return new ApiError(code ? code.textContent : `HTTP${status}`, msg ? msg.textContent : text.slice(0, 200), status);
}

/** Form parameters for a list: `prefix.1`, `prefix.2`… (pass "X.member" for the query protocol). */
export function list(prefix, values, sub) {
  const out = {};
  values.forEach((v, i) => {
    if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) out[`${prefix}.${i + 1}.${k}`] = x;
    } else out[sub ? `${prefix}.${i + 1}.${sub}` : `${prefix}.${i + 1}`] = v;
  });
  return out;
}

let calls = 0;
/** Number of API calls made (the tests read it to see a page re-read without reloading). */
export const callCount = () => calls;

async function post(service, headers, body, region = session.region) {
  const creds = session.credentials;
  const signed = await sign({ ...creds, region, service, headers, body });
  calls++;
  return fetch("/", { method: "POST", headers: { ...headers, ...signed }, body });
}

/**
 * Call a query/ec2-protocol operation; resolves with the operation's result as a plain object.
 * Empty values are left out, except `[]`: an explicitly empty list (`PolicyNames=`), as the CLI
 * sends it.
 */
export async function query(service, action, params = {}) {
  const def = QUERY[service];
  const form = new URLSearchParams({ Action: action, Version: def.version });
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v) && !v.length) form.append(k, "");
    else if (v !== undefined && v !== null && v !== "") form.append(k, String(v));
  }
  const t0 = performance.now();
  const resp = await post(def.signing, { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, form.toString());
  const text = await resp.text();
  window.__lastFetchMs = performance.now() - t0;
  if (!resp.ok) throw xmlError(text, resp.status);
  const { value } = parseXml(text);
  const result = value && typeof value === "object" && !Array.isArray(value) ? value[`${action}Result`] : undefined;
  return result !== undefined ? result : value;
}

/**
 * Call a CloudWatch operation in JSON 1.0 (what current SDKs send), in the console's region or
 * in `region` (a dashboard's widget names its own).
 */
export async function cloudwatch(action, input = {}, region = undefined) {
  const headers = {
    "content-type": "application/x-amz-json-1.0",
    "x-amz-target": `GraniteServiceVersion20100801.${action}`,
  };
  const resp = await post("monitoring", headers, JSON.stringify(input), region || session.region);
  const text = await resp.text();
  let value = {};
  try { value = text ? JSON.parse(text) : {}; } catch { value = { message: text }; }
  if (!resp.ok) {
    const type = String(value.__type || `HTTP${resp.status}`);
    throw new ApiError(type.split("#").pop(), value.message || value.Message || "", resp.status);
  }
  return value;
}

export const ec2 = (a, p) => query("ec2", a, p);
export const autoscaling = (a, p) => query("autoscaling", a, p);
export const elb = (a, p) => query("elb", a, p);
export const elbv2 = (a, p) => query("elbv2", a, p);
export const sns = (a, p) => query("sns", a, p);

/** A query string in SigV4's canonical form: pairs sorted, names and values encoded. */
function canonicalQuery(q) {
  const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return [...new URLSearchParams(q)].map(([k, v]) => `${enc(k)}=${enc(v)}`).sort().join("&");
}

/**
 * The admin API (JSON), with the admin token when one was given, and signed with the signed-in
 * key (a classroom server knows the teacher, or a student stressing their own instance, by
 * it). A refusal (401 no token, 403 wrong token or teacher only) is an ApiError marked `admin`,
 * so the shell does not take it for a signature problem, and the workshop bar offers the token
 * field.
 */
export async function admin(path, body) {
  const headers = body === undefined ? {} : { "content-type": "application/json" };
  if (session.adminToken) headers["x-updraft-admin-token"] = session.adminToken;
  const text = body === undefined ? "" : JSON.stringify(body);
  const [route, q = ""] = `/_updraft/${path}`.split("?");
  const query = canonicalQuery(q);
  if (session.signedIn) {
    Object.assign(headers, await sign({ ...session.credentials, region: session.region, service: "updraft",
      headers, body: text, method: body === undefined ? "GET" : "POST", path: route, query }));
  }
  const init = body === undefined ? { headers } : { method: "POST", headers, body: text };
  const resp = await fetch(query ? `${route}?${query}` : route, init);
  const value = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = new ApiError(value.code || `HTTP${resp.status}`, value.error || "", resp.status);
    err.admin = true;
    throw err;
  }
  return value;
}

/** Tag value of `key` in an EC2 tagSet / Auto Scaling Tags list. */
export function tag(tags, key) {
  const t = arr(tags).find((x) => (x.key ?? x.Key) === key);
  return t ? (t.value ?? t.Value) : "";
}

/** Base64 of a UTF-8 string (user data). */
export function b64(text) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

/** Run calls in order; on failure say which succeeded (wizards never leave silent halves). */
export async function steps(list) {
  const done = [];
  for (const [label, fn] of list) {
    try {
      await fn();
      done.push(label);
    } catch (err) {
      err.done = done;
      err.failedStep = label;
      throw err;
    }
  }
  return done;
}

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
};

/** Turn an XML element into a plain value: text for leaves, arrays for member/item lists. */
function plain(el) {
  const kids = Array.from(el.children);
  if (kids.length === 0) return el.textContent;
  if (kids.every((k) => k.localName === "member" || k.localName === "item")) return kids.map(plain);
  const out = {};
  for (const k of kids) out[k.localName] = plain(k);
  return out;
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

async function post(service, headers, body) {
  const creds = session.credentials;
  const signed = await sign({ ...creds, region: session.region, service, headers, body });
  calls++;
  return fetch("/", { method: "POST", headers: { ...headers, ...signed }, body });
}

/** Call a query/ec2-protocol operation; resolves with the operation's result as a plain object. */
export async function query(service, action, params = {}) {
  const def = QUERY[service];
  const form = new URLSearchParams({ Action: action, Version: def.version });
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") form.append(k, String(v));
  const resp = await post(def.signing, { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, form.toString());
  const text = await resp.text();
  if (!resp.ok) throw xmlError(text, resp.status);
  const doc = new DOMParser().parseFromString(text, "application/xml");
  const root = doc.documentElement;
  const result = Array.from(root.children).find((c) => c.localName === `${action}Result`);
  return plain(result || root);
}

/** Call a CloudWatch operation in JSON 1.0 (what current SDKs send). */
export async function cloudwatch(action, input = {}) {
  const headers = {
    "content-type": "application/x-amz-json-1.0",
    "x-amz-target": `GraniteServiceVersion20100801.${action}`,
  };
  const resp = await post("monitoring", headers, JSON.stringify(input));
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

/** The admin API (JSON). */
export async function admin(path, body) {
  const init = body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const resp = await fetch(`/_updraft/${path}`, init);
  const value = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new ApiError(value.code || `HTTP${resp.status}`, value.error || "", resp.status);
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

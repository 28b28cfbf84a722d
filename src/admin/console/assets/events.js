// The change stream (/_updraft/events): notices only. Subscribers re-read through the API.
import { session } from "./api.js";

const listeners = new Set();
let source;

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function connect() {
  if (source) source.close();
  const key = encodeURIComponent(session.credentials.accessKey);
  source = new EventSource(`/_updraft/events?access_key=${key}`);
  for (const kind of ["hello", "change", "clock"]) {
    source.addEventListener(kind, (e) => {
      let data = {};
      try { data = JSON.parse(e.data); } catch { /* a malformed notice still means "re-read" */ }
      if (kind === "change" && data.region !== "*" && data.region && data.region !== session.region) return;
      for (const fn of listeners) fn(kind, data);
    });
  }
}

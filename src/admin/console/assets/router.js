// Hash router: `#/path/with/:params`. Routes are registered by app.js; navigation re-renders.
const routes = [];
let onRoute = () => {};

export function route(pattern, page) {
  const names = [];
  const re = new RegExp("^" + pattern.replace(/:(\w+)/g, (_, n) => { names.push(n); return "([^/]+)"; }) + "$");
  routes.push({ re, names, page, pattern });
}

export function current() {
  const path = location.hash.replace(/^#/, "") || "/ec2/instances";
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) {
      const params = {};
      r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
      return { page: r.page, params, path, pattern: r.pattern };
    }
  }
  return { page: null, params: {}, path };
}

export function go(path) {
  if (location.hash === "#" + path) onRoute(current());
  else location.hash = path;
}

export function start(handler) {
  onRoute = handler;
  window.addEventListener("hashchange", () => onRoute(current()));
  onRoute(current());
}

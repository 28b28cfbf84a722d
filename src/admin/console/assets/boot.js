// Loaded first, as a classic script: collects uncaught errors and console.error calls in
// window.__consoleErrors so the browser tests can fail on them.
window.__consoleErrors = [];
window.addEventListener("error", (e) => {
  window.__consoleErrors.push(String(e.message || e.type) + " @ " + (e.filename || "") + ":" + (e.lineno || ""));
});
window.addEventListener("unhandledrejection", (e) => {
  window.__consoleErrors.push("unhandled rejection: " + String(e.reason && (e.reason.stack || e.reason)));
});
(function () {
  const orig = console.error.bind(console);
  console.error = (...args) => { window.__consoleErrors.push(args.map(String).join(" ")); orig(...args); };
})();

//! A tiny WebDriver client for the console's browser tests: Debian's headless Chromium through
//! its chromedriver (started on a free loopback port), spoken to in HTTP + JSON with the raw
//! client of `common`. No new dependencies. When chromedriver is missing the tests skip with a
//! message, except in CI (`CI=true`), where that is a failure.

#![allow(dead_code)] // each console test uses a different subset

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// One request; the body read by its Content-Length (chromedriver keeps connections open
/// whatever `Connection: close` says, so reading to the end would wait for its timeout).
fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("connect to chromedriver");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(body).expect("write");
    let mut reader = BufReader::new(stream);
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).expect("read head") == 0 {
            break;
        }
        if line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse::<usize>().ok();
        }
    }
    let mut out = Vec::new();
    match length {
        Some(n) => {
            out.resize(n, 0);
            reader.read_exact(&mut out).expect("read body");
        }
        None => {
            // Without a length the server closes the connection at the end.
            let _ = reader.read_to_end(&mut out);
        }
    }
    out
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long a wait may take in real time before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);

/// Browser tests take turns: a Chromium is heavy on a 2-core machine, and the suite's timing
/// tests (Docker CPU scaling) run beside them in the same binary.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Hold for the whole of a browser test (before starting its browsers).
pub fn turn() -> std::sync::MutexGuard<'static, ()> {
    // A failed browser test poisons the lock; the next one may still run.
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// A headless browser session; the driver process is ended on drop.
pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
    /// Screenshot file prefix.
    pub name: String,
}

fn which(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| PathBuf::from(d).join(bin))
        .find(|p| p.is_file())
}

impl Browser {
    /// A browser, or `None` (after saying why) when chromedriver isn't installed outside CI.
    pub fn start(name: &str) -> Option<Self> {
        let (Some(driver), Some(chromium)) = (which("chromedriver"), which("chromium")) else {
            let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(
                !ci,
                "chromium/chromedriver are not installed: scripts/test.sh installs them in CI"
            );
            eprintln!(
                "SKIPPED {name}: chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
            );
            return None;
        };
        let port = crate::common::free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let started = Instant::now();
        while TcpStream::connect(addr).is_err() {
            assert!(started.elapsed() < WAIT, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut b = Browser {
            driver: child,
            addr,
            session: String::new(),
            name: name.to_owned(),
        };
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--no-first-run", "--disable-extensions"]},
            "goog:loggingPrefs": {"browser": "ALL"},
            "unhandledPromptBehavior": "ignore"
        }}});
        let v = b.raw("POST", "/session", &caps);
        b.session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_owned();
        Some(b)
    }

    fn raw(&self, method: &str, path: &str, body: &Value) -> Value {
        let bytes = if method == "GET" || method == "DELETE" {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        serde_json::from_slice(&request(self.addr, method, path, &bytes)).unwrap_or(Value::Null)
    }

    /// A session command; panics on a WebDriver error.
    pub fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let v = self.try_cmd(method, path, body);
        match v {
            Ok(v) => v,
            Err(e) => panic!("webdriver {method} {path}: {e}"),
        }
    }

    fn try_cmd(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let v = self.raw(method, &format!("/session/{}{path}", self.session), &body);
        match v["value"].get("error") {
            Some(e) => Err(format!("{e}: {}", v["value"]["message"])),
            None => Ok(v["value"].clone()),
        }
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({"url": url}));
    }

    /// Run a script in the page (`arguments[0…]`); its return value.
    pub fn js(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
    }

    pub fn find_now(&self, css: &str) -> Option<String> {
        let v = self
            .try_cmd(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .ok()?;
        v[ELEMENT].as_str().map(str::to_owned)
    }

    /// Wait until `f` gives a value (polling); panics with `what` after [`WAIT`].
    pub fn wait<T>(&self, what: &str, f: impl Fn(&Self) -> Option<T>) -> T {
        let started = Instant::now();
        loop {
            if let Some(v) = f(self) {
                return v;
            }
            if started.elapsed() > WAIT {
                self.screenshot(&format!("timeout-{}", what.replace([' ', '/', '#'], "_")));
                panic!(
                    "timed out waiting for {what}; page text:\n{}",
                    self.text("body")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The element for `css`, waiting for it.
    pub fn find(&self, css: &str) -> String {
        self.wait(css, |b| b.find_now(css))
    }

    pub fn click(&self, css: &str) {
        let started = Instant::now();
        loop {
            let id = self.find(css);
            match self.try_cmd("POST", &format!("/element/{id}/click"), json!({})) {
                Ok(_) => return,
                // Re-rendered under us (live update) or not yet clickable: find it again.
                Err(e) if started.elapsed() < WAIT => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    /// Clear a text field and type into it. A field re-rendered under us by a live update
    /// (a stale element) is found again; once it has the focus the console stops re-rendering.
    pub fn type_into(&self, css: &str, text: &str) {
        let started = Instant::now();
        loop {
            let id = self.find(css);
            let typed = self
                .try_cmd("POST", &format!("/element/{id}/clear"), json!({}))
                .and_then(|_| {
                    self.try_cmd(
                        "POST",
                        &format!("/element/{id}/value"),
                        json!({"text": text}),
                    )
                });
            match typed {
                Ok(_) => return,
                // Re-rendered under us: stale, or caught between a live update's clearing of
                // the pane and its new form (not interactable for that moment).
                Err(e)
                    if (e.contains("stale element") || e.contains("not interactable"))
                        && started.elapsed() < WAIT =>
                {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("type into {css}: {e}"),
            }
        }
    }

    /// Choose the option of a `<select>` whose value or text contains `needle` (all of them
    /// for a multiple select given several), as a user's pick does: then `change` fires.
    pub fn choose(&self, css: &str, needles: &[&str]) {
        self.find(css);
        // Options may arrive after the select (a page filling it from the API): wait for one.
        self.wait(&format!("an option {needles:?} in {css}"), |b| {
            b.js(
                "const s = document.querySelector(arguments[0]);
                 return !!s && [...s.options].some((o) => arguments[1].some((x) => o.value === x || o.text.includes(x)));",
                json!([css, needles]),
            )
            .as_bool()
            .filter(|found| *found)
        });
        let ok = self.js(
            "const s = document.querySelector(arguments[0]); let n = 0;
             for (const o of s.options) { const hit = arguments[1].some((x) => o.value === x || o.text.includes(x));
               if (hit) { o.selected = true; n++; if (!s.multiple) break; } else if (s.multiple) o.selected = false; }
             s.dispatchEvent(new Event('change', {bubbles: true})); return n;",
            json!([css, needles]),
        );
        assert!(
            ok.as_u64().unwrap_or(0) > 0,
            "no option {needles:?} in {css}"
        );
    }

    /// The visible text of the first element for `css` ("" when absent).
    pub fn text(&self, css: &str) -> String {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
            json!([css]),
        )
        .as_str()
        .unwrap_or("")
        .to_owned()
    }

    /// Wait until the text of `css` contains `needle`.
    pub fn wait_text(&self, css: &str, needle: &str) {
        self.wait(&format!("{needle:?} in {css}"), |b| {
            b.text(css).contains(needle).then_some(())
        });
    }

    /// Save a screenshot as target/screenshots/<name>-<step>.png.
    pub fn screenshot(&self, step: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{}-{step}.png", self.name));
        if let Ok(v) = self.try_cmd("GET", "/screenshot", Value::Null)
            && let Some(b64) = v.as_str()
            && let Ok(png) = base64::engine::general_purpose::STANDARD.decode(b64)
        {
            std::fs::write(&path, png).expect("write screenshot");
        }
        path
    }

    /// Errors the page reported: uncaught errors, rejections, console.error (collected by
    /// boot.js) and the browser log's SEVERE entries.
    pub fn errors(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .js("return window.__consoleErrors || [];", json!([]))
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.as_str().unwrap_or("").to_owned())
            .collect();
        if let Ok(Value::Array(log)) = self.try_cmd("POST", "/se/log", json!({"type": "browser"})) {
            out.extend(
                log.iter()
                    .filter(|e| e["level"] == "SEVERE")
                    // An AWS client error (4xx) is an answer the page shows inline (the form
                    // error tests want them); a 5xx or any script error stays an error.
                    .filter(|e| {
                        let m = e["message"].as_str().unwrap_or("");
                        !(e["source"] == "network" && m.contains("status of 4"))
                    })
                    .map(|e| e["message"].as_str().unwrap_or("").to_owned()),
            );
        }
        out
    }

    pub fn assert_no_errors(&self) {
        let errors = self.errors();
        assert!(errors.is_empty(), "browser errors: {errors:#?}");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.raw(
                "DELETE",
                &format!("/session/{}", self.session),
                &Value::Null,
            ); // best effort
        }
        let _ = self.driver.kill(); // our own child, by its handle
        let _ = self.driver.wait();
    }
}

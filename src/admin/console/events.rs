//! The console's change stream, `GET /_updraft/events` (server-sent events).
//!
//! It carries notices, never data: `change` names the service, account and region an API
//! write touched (`*` when a controller changed something and the scope isn't known), `clock`
//! carries the virtual time while the clock runs. A page that gets a notice re-reads through
//! the AWS API, so the stream can't show what the API wouldn't.
//!
//! Cost: one pump task per server (started by the first subscriber) turns wake-ups of every
//! topic (`state.wake`) and clock ticks into broadcasts; each client is a future parked on the broadcast
//! receiver plus a keep-alive timer. Nothing runs for idle clients on a frozen clock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde::Serialize;
use tokio::sync::broadcast;

use super::ConsoleBody;
use crate::state::{AppState, Scope, Topics};

/// How often an idle stream says it is alive (proxies and browsers drop silent ones).
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Wake-ups closer than this are sent as one notice.
const DEBOUNCE: Duration = Duration::from_millis(120);
/// A controller's follow-up work (alarm → policy → launch) lands after the wake that caused it.
const TRAILING: Duration = Duration::from_millis(900);
/// Clock notices while the clock runs.
const TICK: Duration = Duration::from_secs(1);

/// One notice on the stream.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    /// `change` or `clock`.
    pub kind: &'static str,
    /// The service whose state changed (`*`: unknown).
    pub service: String,
    /// The account (`*`: every account).
    pub account: String,
    /// The region (`*`: every region).
    pub region: String,
    /// Virtual time, epoch seconds.
    pub now: f64,
    /// Clock speed (0 = frozen).
    pub scale: f64,
}

/// The broadcaster: one per server.
#[derive(Debug)]
pub struct Hub {
    tx: broadcast::Sender<Arc<Notice>>,
    pump_started: AtomicBool,
}

impl Default for Hub {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(64).0,
            pump_started: AtomicBool::new(false),
        }
    }
}

impl Hub {
    /// Tell watchers that an API write changed `service` in `scope`. Free when nobody watches.
    pub fn changed(&self, state: &AppState, service: &str, scope: &Scope) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        self.send(Notice {
            kind: "change",
            service: service.to_owned(),
            account: scope.account.to_string(),
            region: scope.region.to_string(),
            now: state.clock.now(),
            scale: state.clock.scale(),
        });
    }

    fn send(&self, notice: Notice) {
        // No receiver is not an error: nobody is watching.
        let _ = self.tx.send(Arc::new(notice));
    }
}

fn everywhere(state: &AppState, kind: &'static str) -> Notice {
    Notice {
        kind,
        service: "*".into(),
        account: "*".into(),
        region: "*".into(),
        now: state.clock.now(),
        scale: state.clock.scale(),
    }
}

/// Turn wake-ups (any topic) and clock ticks into notices, while anyone listens.
async fn pump(weak: Weak<AppState>) {
    let Some(wake) = weak
        .upgrade()
        .map(|state| state.wake.subscribe("console-events", Topics::ALL))
    else {
        return;
    };
    let mut trailing: Option<tokio::time::Instant> = None;
    loop {
        let Some(state) = weak.upgrade() else { return };
        let running = state.clock.scale() > 0.0;
        let wait = match trailing {
            Some(at) => at.saturating_duration_since(tokio::time::Instant::now()),
            None if running => TICK,
            None => TICK * 5,
        };
        let was_woken = tokio::select! {
            () = wake.woken() => true,
            () = tokio::time::sleep(wait) => false,
        };
        let hub = &state.events;
        if hub.tx.receiver_count() == 0 {
            trailing = None;
            drop(state);
            tokio::time::sleep(TICK).await;
            continue;
        }
        if was_woken {
            tokio::time::sleep(DEBOUNCE).await;
            // Writes during the debounce are in the notice sent now (and the trailing one):
            // the wake-up they left pending must not send a second notice at once, which made
            // pages re-render under a user typing into a form.
            let _ = futures_util::FutureExt::now_or_never(wake.woken());
            hub.send(everywhere(&state, "change"));
            trailing = Some(tokio::time::Instant::now() + TRAILING);
        } else if trailing.take().is_some() {
            hub.send(everywhere(&state, "change"));
        } else if running {
            hub.send(everywhere(&state, "clock"));
        }
    }
}

fn frame(notice: &Notice) -> Bytes {
    let data = serde_json::to_string(notice).unwrap_or_default();
    Bytes::from(format!("event: {}\ndata: {data}\n\n", notice.kind))
}

/// `GET /_updraft/events[?access_key=…]`: the stream for the account of that access key (the
/// same rule as the API's), or the default account.
pub fn stream(state: &Arc<AppState>, query: Option<&str>) -> Response<ConsoleBody> {
    let key = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "access_key")
        .map(|(_, v)| v.into_owned());
    let account = crate::server::auth::account_for_key(key.as_deref(), &state.config, &state.keys);
    let hub = &state.events;
    if !hub.pump_started.swap(true, Ordering::SeqCst) {
        tokio::spawn(pump(Arc::downgrade(state)));
    }
    let rx = hub.tx.subscribe();
    let hello = Notice {
        kind: "hello",
        account: account.clone(),
        ..everywhere(state, "hello")
    };
    let first = Bytes::from(format!(
        "retry: 2000\n\n{}",
        String::from_utf8_lossy(&frame(&hello))
    ));
    let body = futures_util::stream::unfold(
        (rx, account, Some(first)),
        |(mut rx, account, first)| async move {
            if let Some(first) = first {
                return Some((Ok(Frame::data(first)), (rx, account, None)));
            }
            loop {
                let next = tokio::select! {
                    got = rx.recv() => got,
                    () = tokio::time::sleep(KEEP_ALIVE) => {
                        return Some((Ok(Frame::data(Bytes::from_static(b": keep-alive\n\n"))), (rx, account, None)));
                    }
                };
                match next {
                    Ok(n) if n.account == "*" || n.account == account => {
                        return Some((Ok(Frame::data(frame(&n))), (rx, account, None)));
                    }
                    Ok(_) => {}
                    // Missed some: one coarse notice makes the page re-read everything.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let b = Bytes::from_static(
                            b"event: change\ndata: {\"kind\":\"change\",\"service\":\"*\",\"account\":\"*\",\"region\":\"*\"}\n\n",
                        );
                        return Some((Ok(Frame::data(b)), (rx, account, None)));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    let mut resp = Response::new(BodyExt::boxed(StreamBody::new(body)));
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

//! Listener ports on 127.0.0.1 (`--lb-listener-ports`): a controller binds every listener port
//! of every load balancer and unbinds the ones no load balancer uses any more.
//!
//! Several load balancers may share a port (two Classic ELBs on 80): the Host header picks
//! one; a request whose Host names no load balancer goes to the port's only load balancer, or
//! gets a 503 when there are several. A port that cannot be bound (in use, privileged) is
//! logged and retried on the next pass.
//!
//! A port where a network load balancer has a TCP or TLS listener (or a Classic one a TCP or
//! SSL listener) carries flows instead ([`super::tcp`]): there is no Host to pick by, so that
//! load balancer takes every connection of the port (the first by DNS name when several claim it). Which kind a port serves is
//! decided per connection, so a listener changing protocol needs no rebinding.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::{LbKind, LbRef};
use crate::controllers::{Controller, ControllerError, Next};
use crate::server::conns::{Admission, Limits, Tracker};
use crate::server::lanes::Lanes;
use crate::server::refuse;
use crate::state::{AppState, Topic, Topics};

/// Virtual seconds between passes when nothing changes (writes wake it at once).
const PASS_SECONDS: f64 = 30.0;

/// The listener-port binder.
#[derive(Debug)]
pub struct ListenerPorts {
    state: Arc<AppState>,
    bound: Mutex<HashMap<u16, JoinHandle<()>>>,
    /// The connection limits of every listener port together (as the main port's).
    tracker: Arc<Tracker>,
    /// Closes connections past their timeouts; started with the first bound port.
    sweeper: Mutex<Option<JoinHandle<()>>>,
    /// The threads that serve the ports' connections (`--connection-threads` of them, as on
    /// the main port); started with the first bound port, stopped with the binder.
    lanes: Mutex<Option<Arc<Lanes>>>,
}

impl ListenerPorts {
    /// A binder for `state`'s load balancers.
    pub fn new(state: Arc<AppState>) -> Self {
        let tracker = Tracker::new(Limits::from_config(&state.config));
        Self {
            state,
            bound: Mutex::default(),
            tracker,
            sweeper: Mutex::default(),
            lanes: Mutex::default(),
        }
    }

    /// The connection lanes, started on first use.
    fn lanes(&self) -> Result<Arc<Lanes>, ControllerError> {
        let mut lanes = self.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(l) = lanes.as_ref() {
            return Ok(l.clone());
        }
        let started = Lanes::start(self.state.config.connection_threads)
            .map(Arc::new)
            .map_err(|e| ControllerError(format!("cannot start the connection threads: {e}")))?;
        *lanes = Some(started.clone());
        Ok(started)
    }
}

impl Drop for ListenerPorts {
    fn drop(&mut self) {
        // Shutdown: stop accepting on every listener port.
        for (_, task) in self
            .bound
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain()
        {
            task.abort();
        }
        if let Some(sweeper) = self
            .sweeper
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            sweeper.abort();
        }
    }
}

/// The ports load balancers listen on now.
pub fn wanted_ports(state: &AppState) -> Vec<u16> {
    state.dataplane.index.ports()
}

/// The network load balancer whose TCP listener is on `port`, when one is (the first by DNS
/// name when several claim it).
fn flow_lb_on(state: &AppState, port: u16) -> Option<LbRef> {
    state
        .dataplane
        .index
        .on_port(port)
        .into_iter()
        .find(|(_, e)| e.tcp_ports.contains(&port))
        .map(|(_, e)| e.lb.clone())
}

/// The load balancer to use on `port` when the Host names none: the only one on that port.
pub(super) fn only_lb_on(state: &AppState, port: u16) -> Option<LbRef> {
    match state.dataplane.index.on_port(port).as_slice() {
        [(_, e)] => Some(e.lb.clone()),
        _ => None,
    }
}

impl Controller for ListenerPorts {
    fn name(&self) -> &'static str {
        "lb-listener-ports"
    }

    fn watches(&self) -> Topics {
        Topic::Elb | Topic::Elbv2
    }

    async fn reconcile(&self, state: &AppState) -> Result<Next, ControllerError> {
        let wanted = wanted_ports(state);
        let mut to_bind = Vec::new();
        {
            let mut bound = self.bound.lock().unwrap_or_else(PoisonError::into_inner);
            bound.retain(|port, task| {
                let keep = wanted.contains(port) && !task.is_finished();
                if !keep {
                    task.abort();
                }
                keep
            });
            to_bind.extend(wanted.iter().filter(|p| !bound.contains_key(p)).copied());
        }
        if !to_bind.is_empty() {
            let mut sweeper = self.sweeper.lock().unwrap_or_else(PoisonError::into_inner);
            if sweeper.is_none() {
                let tracker = self.tracker.clone();
                *sweeper = Some(tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(tracker.sweep_every()).await;
                        tracker.sweep();
                    }
                }));
            }
        }
        if to_bind.is_empty() {
            return Ok(Next::after_secs(PASS_SECONDS));
        }
        let lanes = self.lanes()?;
        for port in to_bind {
            match TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await {
                Ok(listener) => {
                    tracing::info!(port, "load balancer listener port bound");
                    let task = tokio::spawn(accept_loop(
                        listener,
                        port,
                        self.state.clone(),
                        self.tracker.clone(),
                        lanes.clone(),
                    ));
                    self.bound
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(port, task);
                }
                Err(err) => tracing::warn!(port, error = %err, "cannot bind load balancer port"),
            }
        }
        Ok(Next::after_secs(PASS_SECONDS))
    }
}

async fn accept_loop(
    listener: TcpListener,
    port: u16,
    state: Arc<AppState>,
    tracker: Arc<Tracker>,
    lanes: Arc<Lanes>,
) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(a) => a,
            Err(err) => {
                tracing::warn!(port, error = %err, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let held = match tracker.admit() {
            Admission::Serve(held) => held,
            Admission::Refuse => {
                tokio::spawn(refuse::refuse(stream, refuse::Why::Busy));
                continue;
            }
        };
        // Served whole on a connection lane, registered with its event loop.
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        lanes
            .next()
            .spawn(serve_accepted(stream, peer, port, state.clone(), held));
    }
}

/// Serve one accepted connection on `port` (non-blocking) on the runtime this runs on: a
/// flow, HTTP, or HTTP inside TLS, as the port's load balancers say.
async fn serve_accepted(
    stream: std::net::TcpStream,
    peer: SocketAddr,
    port: u16,
    state: Arc<AppState>,
    held: crate::server::conns::Held,
) {
    let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
        return;
    };
    if let Some(lb) = flow_lb_on(&state, port) {
        // A flow keeps its slot busy for its whole life: the sweeper's request-head and
        // keep-alive limits are not for byte streams (the flow has its own idle timeout).
        let flow = super::resolve_flow(&state, &lb, port, peer);
        let busy = held.tracker.begin(&held.slot);
        if let Some(flow) = flow {
            super::tcp::serve(stream, peer, flow).await;
        }
        drop(busy);
        drop(held);
        return;
    }
    let state_for_tls = state.clone();
    let h2_state = state.clone();
    let client = super::ClientConn::new(peer, Some(port), held.slot.clone());
    let tls = super::tls_config(&state, port);
    let handler = move |req| super::proxy::handle(state.clone(), req, client.clone());
    // HTTP/2 with prior knowledge on an HTTP/1 listener: ALB's 505 (an HTTP/2 request
    // on an HTTP/1 connection), Classic's 400 (a malformed request).
    let h2_answer = move || {
        let kind = only_lb_on(&h2_state, port).map_or(LbKind::Application, |lb| lb.kind);
        response_bytes(super::proxy::refused(
            kind,
            if kind == LbKind::Classic { 400 } else { 505 },
        ))
    };
    match tls {
        None => crate::server::serve_connection(stream, held, None, h2_answer, handler).await,
        Some(Some(config)) => {
            let on_failure = move || tls_failed(&state_for_tls, port);
            serve_tls(stream, held, config, handler, on_failure).await;
        }
        // A secure listener without a usable certificate (or policy): no handshake can
        // succeed. A client that starts one has failed it; one that sends nothing, not.
        Some(None) => {
            let mut first = [0u8; 1];
            let peeked =
                tokio::time::timeout(super::tcp::HANDSHAKE_TIMEOUT, stream.peek(&mut first)).await;
            if matches!(peeked, Ok(Ok(n)) if n > 0) {
                tls_failed(&state_for_tls, port);
            }
            drop(held);
        }
    }
}

/// A client's TLS handshake on `port` failed: its load balancers count it.
fn tls_failed(state: &AppState, port: u16) {
    let lbs = super::port_lbs(state, port);
    state.dataplane.resolver.tls_failed(state, port, &lbs);
}

/// Terminate TLS on an accepted connection, then serve HTTP/1.1 inside it. The handshake is
/// bounded by the connection's slot (the tracker closes connections that stay silent).
async fn serve_tls<F, Fut>(
    stream: tokio::net::TcpStream,
    held: crate::server::conns::Held,
    config: Arc<rustls::ServerConfig>,
    handler: F,
    on_failure: impl FnOnce(),
) where
    F: Fn(hyper::Request<hyper::body::Incoming>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = hyper::Response<super::proxy::ProxyBody>> + Send + 'static,
{
    let _ = stream.set_nodelay(true); // best effort; the connection works either way
    let io = crate::server::conns::Counted::new(stream, held.slot.clone(), held.tracker.clone());
    let slot = held.slot.clone();
    let handshake = tokio_rustls::TlsAcceptor::from(config).accept(io);
    let tls = tokio::select! {
        r = handshake => match r {
            Ok(tls) => tls,
            Err(err) => {
                tracing::debug!(error = %err, "TLS handshake failed");
                // A client that closed before saying anything (a port probe) negotiated nothing.
                if err.kind() != std::io::ErrorKind::UnexpectedEof {
                    on_failure();
                }
                return;
            }
        },
        () = slot.closed() => return,
    };
    crate::server::serve_io(tls, held, None, handler).await;
}

/// A buffered load-balancer answer as HTTP/1.1 bytes, with `Connection: close` (written
/// before hyper serves the connection).
fn response_bytes(resp: hyper::Response<super::proxy::ProxyBody>) -> Vec<u8> {
    use http_body_util::BodyExt;
    use std::io::Write;
    let (parts, body) = resp.into_parts();
    let reason = parts
        .extensions
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
        .or_else(|| parts.status.canonical_reason().map(str::to_owned))
        .unwrap_or_default();
    // Fixed answers are buffered: the frame is there at once.
    let body = futures_util::FutureExt::now_or_never(body.collect())
        .and_then(Result::ok)
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let mut out = Vec::new();
    let _ = write!(out, "HTTP/1.1 {} {reason}\r\n", parts.status.as_u16()); // into a Vec: cannot fail
    for (name, value) in &parts.headers {
        if name == http::header::CONTENT_LENGTH || name == http::header::CONNECTION {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let _ = write!(
        out,
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    out.extend_from_slice(&body);
    out
}

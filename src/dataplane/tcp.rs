//! Network load balancer flows: a connection on a TCP listener's port is proxied byte for byte
//! to one healthy target, chosen when the connection opens (AWS picks a target per flow and
//! keeps it for the flow's life).
//!
//! - The target gets nothing the client did not send, except a PROXY protocol header first
//!   when the resolver asks for one ([`proxy_header`]: v2 for an NLB group's
//!   `proxy_protocol_v2.enabled`, v1 for Classic's `ProxyProtocolPolicyType`), with the
//!   client's address and the listener's.
//! - A secure listener (NLB TLS, Classic SSL) terminates TLS first with the resolver's
//!   configuration; the decrypted stream goes on to the target as plain TCP. A handshake that
//!   fails (or does not finish within [`HANDSHAKE_TIMEOUT`]) closes the connection before any
//!   target is chosen, and is reported (`ClientTLSNegotiationErrorCount`).
//! - An SSL/TLS back end (Classic `InstanceProtocol` SSL, an NLB `TLS` target group) gets the
//!   stream over TLS the load balancer opens to it ([`crate::lb::backend_tls`]); a target that
//!   does not complete that handshake ends the flow without a byte to the client.
//! - Each direction ends on its own: the client's end of stream (half-close) is passed on to
//!   the target as a shutdown of its write side while the answer keeps flowing back, and the
//!   other way round. A reset on either side ends the flow.
//! - A flow that carries no byte either way for the listener's `tcp.idle_timeout.seconds`
//!   (350 by default) is closed on both sides.
//! - Targets are tried in the resolver's order; one that refuses the connection (or does not
//!   accept it within [`CONNECT_TIMEOUT`]) gives way to the next. With none left, the client's
//!   connection is closed without a byte.
//! - A simulated (in-process) instance has no socket: it runs a web server on its service port,
//!   so a flow to it is read as HTTP/1.1 ([`in_process`]) and each request answered by its
//!   responder, as the bytes sent to a real web server would be.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod in_process;
pub mod proxy_header;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::backend::{HttpAddress, Responder};
use crate::lb::{BackendTls, ProxyHeader, TlsFailed};

/// Real time a client has to finish its TLS handshake on a secure listener.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Real time a target may take to accept a connection before the next one is tried.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Bytes read at once in each direction.
const BUF_BYTES: usize = 64 * 1024;

/// One target a flow may go to.
#[derive(Debug, Clone)]
pub struct TcpBackend {
    /// Instance id or IP address of the target.
    pub target_id: String,
    /// Its port.
    pub port: u16,
    /// Where to connect (a socket), or the simulated instance that answers.
    pub addr: HttpAddress,
}

/// How a flow finished, reported to [`Flow::on_close`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowOutcome {
    /// Index into [`Flow::backends`] of the target that took the flow, when one did.
    pub served_by: Option<usize>,
    /// Bytes the client sent (passed to the target).
    pub from_client: u64,
    /// Bytes the target sent (passed to the client).
    pub from_target: u64,
    /// The flow was closed by the idle timeout.
    pub idle_closed: bool,
}

/// Called once a flow is over (or could not start).
pub type FlowDone = Box<dyn FnOnce(&FlowOutcome) + Send>;

/// Asked every [`CUT_POLL`] with the index of the serving target: true when the load balancer
/// closes the flow (its target's deregistration delay ended with connection termination on).
pub type CutCheck = Arc<dyn Fn(usize) -> bool + Send + Sync>;

/// How often a flow asks its [`CutCheck`].
pub const CUT_POLL: Duration = Duration::from_secs(1);

/// A resolver's answer for a new connection.
pub struct Flow {
    /// Targets in preference order: the first that accepts the connection takes the flow.
    pub backends: Vec<TcpBackend>,
    /// The PROXY protocol header the target gets first.
    pub proxy: ProxyHeader,
    /// Terminate TLS with this configuration before anything else.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Called when the client's TLS handshake fails.
    pub tls_failed: Option<TlsFailed>,
    /// Open TLS to the target with this before carrying the stream (SSL/TLS back ends).
    pub backend_tls: Option<BackendTls>,
    /// Close the flow after this long without a byte either way.
    pub idle_timeout: Duration,
    /// Whether the load balancer closes the flow (asked now and then).
    pub cut: Option<CutCheck>,
    /// Bookkeeping when the flow is over (flow counts, bytes, in-flight counters).
    pub on_close: Option<FlowDone>,
}

impl std::fmt::Debug for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow")
            .field("backends", &self.backends)
            .field("proxy", &self.proxy)
            .field("tls", &self.tls.is_some())
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

/// The other end of a flow.
enum Leg {
    /// A connected socket.
    Socket(TcpStream),
    /// A simulated instance's web server.
    InProcess(Responder),
}

/// The first target of `backends` that accepts a connection, with its index.
async fn connect(backends: &[TcpBackend]) -> Option<(usize, Leg)> {
    for (i, b) in backends.iter().enumerate() {
        let addr = match &b.addr {
            HttpAddress::Socket(addr) => *addr,
            HttpAddress::InProcess(responder) => {
                return Some((i, Leg::InProcess(responder.clone())));
            }
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => return Some((i, Leg::Socket(stream))),
            Ok(Err(err)) => {
                tracing::debug!(target = %b.target_id, port = b.port, error = %err, "target refused the flow");
            }
            Err(_) => {
                tracing::debug!(target = %b.target_id, port = b.port, "target did not accept the flow in time");
            }
        }
    }
    None
}

/// Milliseconds since `epoch`, the activity clock of a flow.
fn ms_since(epoch: Instant) -> u64 {
    epoch.elapsed().as_millis() as u64
}

/// Copy one direction until its end of stream, then shut the other side's write half
/// (the half-close travels on). Counts bytes into `total` and stamps `last` on activity.
async fn one_way(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    total: &AtomicU64,
    last: &AtomicU64,
    epoch: Instant,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; BUF_BYTES];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return to.shutdown().await;
        }
        to.write_all(&buf[..n]).await?;
        total.fetch_add(n as u64, Ordering::Relaxed);
        last.store(ms_since(epoch), Ordering::Relaxed);
    }
}

/// Serve one accepted connection of a TCP (or TLS/SSL) listener: terminate TLS when the
/// listener is secure, connect to a target of `flow`, then carry bytes both ways until both
/// directions ended, one side reset, or the flow idled out.
pub async fn serve(client: TcpStream, peer: SocketAddr, flow: Flow) {
    let Flow {
        backends,
        proxy,
        tls,
        tls_failed,
        backend_tls,
        idle_timeout,
        cut,
        on_close,
    } = flow;
    // Small writes (interactive protocols) go out at once.
    let _ = client.set_nodelay(true); // best effort: the flow works either way
    let local = client.local_addr().unwrap_or(peer);
    let mut outcome = FlowOutcome::default();
    let leg = TargetSide {
        backends: &backends,
        header: proxy_header::header(proxy, peer, local),
        tls: backend_tls,
        idle_timeout,
        cut,
    };
    match tls {
        None => {
            let (r, w) = client.into_split();
            relay(r, w, leg, &mut outcome).await;
        }
        Some(config) => {
            // A client that closes before its first byte (a port probe) negotiated nothing:
            // it is not a failed handshake.
            let mut first = [0u8; 1];
            let opened = tokio::time::timeout(HANDSHAKE_TIMEOUT, client.peek(&mut first)).await;
            if matches!(opened, Ok(Ok(0) | Err(_))) {
                if let Some(done) = on_close {
                    done(&outcome);
                }
                return;
            }
            let handshake = tokio_rustls::TlsAcceptor::from(config).accept(client);
            let failed = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                Ok(Ok(stream)) => {
                    let (r, w) = tokio::io::split(stream);
                    relay(r, w, leg, &mut outcome).await;
                    None
                }
                Ok(Err(err)) => Some(err.to_string()),
                Err(_) => Some("timed out".to_owned()),
            };
            if let Some(why) = failed {
                tracing::debug!(%peer, error = %why, "TLS handshake of a flow failed");
                if let Some(report) = tls_failed {
                    report();
                }
            }
        }
    }
    if let Some(done) = on_close {
        done(&outcome);
    }
}

/// What the target side of a flow needs (see [`relay`]).
struct TargetSide<'a> {
    backends: &'a [TcpBackend],
    header: Vec<u8>,
    /// TLS to the target (after the PROXY header, which goes in the clear).
    tls: Option<BackendTls>,
    idle_timeout: Duration,
    cut: Option<CutCheck>,
}

/// Connect to a target and carry the client's (plain or decrypted) stream to it.
async fn relay<R, W>(client_r: R, client_w: W, leg: TargetSide<'_>, outcome: &mut FlowOutcome)
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send,
{
    match connect(leg.backends).await {
        Some((index, Leg::InProcess(responder))) => {
            outcome.served_by = Some(index);
            let client = tokio::io::join(client_r, client_w);
            let cut = leg.cut.map(|c| move || c(index));
            (outcome.from_client, outcome.from_target) =
                in_process::serve(client, responder, leg.idle_timeout, cut).await;
        }
        Some((index, Leg::Socket(mut target))) => {
            let _ = target.set_nodelay(true); // best effort
            if !leg.header.is_empty() && target.write_all(&leg.header).await.is_err() {
                return;
            }
            let cut = leg.cut.map(|c| move || c(index));
            let client = (client_r, client_w);
            let Some(config) = leg.tls else {
                outcome.served_by = Some(index);
                let target = target.into_split();
                carry(client, target, leg.idle_timeout, cut, outcome).await;
                return;
            };
            // A target that does not finish the handshake in time (or speaks no TLS) gets
            // the flow closed, as a target that refused it.
            let ip = target.peer_addr().map_or([127, 0, 0, 1].into(), |a| a.ip());
            let handshake = crate::lb::backend_tls::handshake(target, ip, config);
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                Ok(Ok(tls)) => {
                    outcome.served_by = Some(index);
                    let target = tokio::io::split(tls);
                    carry(client, target, leg.idle_timeout, cut, outcome).await;
                }
                Ok(Err(err)) => {
                    tracing::debug!(target = %leg.backends[index].target_id, error = %err, "TLS to the target failed");
                }
                Err(_) => tracing::debug!("TLS to the target timed out"),
            }
        }
        None => tracing::debug!("no target took the flow; closing the client connection"),
    }
}

/// Carry bytes both ways (see [`serve`]).
async fn carry(
    (client_r, client_w): (impl AsyncRead + Unpin, impl AsyncWrite + Unpin),
    (target_r, target_w): (impl AsyncRead + Unpin, impl AsyncWrite + Unpin),
    idle: Duration,
    cut: Option<impl Fn() -> bool>,
    outcome: &mut FlowOutcome,
) {
    let epoch = Instant::now();
    let last = Arc::new(AtomicU64::new(0));
    let (up_bytes, down_bytes) = (AtomicU64::new(0), AtomicU64::new(0));
    let up = one_way(client_r, target_w, &up_bytes, &last, epoch);
    let down = one_way(target_r, client_w, &down_bytes, &last, epoch);
    tokio::pin!(up, down);
    let idle_ms = idle.as_millis() as u64;
    // Ends the flow: true for the idle timeout, false when the load balancer cut it.
    let watchdog = async {
        loop {
            let quiet = ms_since(epoch).saturating_sub(last.load(Ordering::Relaxed));
            if quiet >= idle_ms {
                return true;
            }
            let mut wait = Duration::from_millis(idle_ms - quiet);
            if let Some(cut) = &cut {
                if cut() {
                    return false;
                }
                wait = wait.min(CUT_POLL);
            }
            tokio::time::sleep(wait).await;
        }
    };
    tokio::pin!(watchdog);
    let (mut up_done, mut down_done) = (false, false);
    while !(up_done && down_done) {
        tokio::select! {
            r = &mut up, if !up_done => {
                up_done = true;
                if let Err(err) = r {
                    tracing::debug!(error = %err, "client side of the flow failed");
                    break;
                }
            }
            r = &mut down, if !down_done => {
                down_done = true;
                if let Err(err) = r {
                    tracing::debug!(error = %err, "target side of the flow failed");
                    break;
                }
            }
            idled = &mut watchdog => {
                outcome.idle_closed = idled;
                tracing::debug!(idled, "flow closed by the load balancer");
                break;
            }
        }
    }
    outcome.from_client = up_bytes.load(Ordering::Relaxed);
    outcome.from_target = down_bytes.load(Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn echo() -> SocketAddr {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.into_split();
                    // Echo, then close our side once the client half-closed.
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                    let _ = w.write_all(b"<bye>").await;
                    let _ = w.shutdown().await;
                });
            }
        });
        addr
    }

    async fn front(flow_of: impl Fn() -> Flow + Send + 'static) -> SocketAddr {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((s, peer)) = l.accept().await {
                tokio::spawn(serve(s, peer, flow_of()));
            }
        });
        addr
    }

    #[tokio::test]
    async fn half_close_passes_through_and_closed_targets_are_skipped() {
        let target = echo().await;
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let lb = front(move || {
            let tx = tx.clone();
            Flow {
                backends: vec![
                    TcpBackend {
                        target_id: "closed".into(),
                        port: closed.port(),
                        addr: HttpAddress::Socket(closed),
                    },
                    TcpBackend {
                        target_id: "echo".into(),
                        port: target.port(),
                        addr: HttpAddress::Socket(target),
                    },
                ],
                proxy: ProxyHeader::None,
                tls: None,
                tls_failed: None,
                backend_tls: None,
                idle_timeout: Duration::from_secs(30),
                cut: None,
                on_close: Some(Box::new(move |o| {
                    let _ = tx.send(o.clone());
                })),
            }
        })
        .await;
        let mut c = TcpStream::connect(lb).await.unwrap();
        c.write_all(b"hello ").await.unwrap();
        c.write_all(b"world").await.unwrap();
        c.shutdown().await.unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"hello world<bye>");
        let o = rx.recv().await.unwrap();
        assert_eq!(
            o,
            FlowOutcome {
                served_by: Some(1),
                from_client: 11,
                from_target: 16,
                idle_closed: false
            }
        );
    }

    #[tokio::test]
    async fn an_idle_flow_is_closed() {
        let target = echo().await;
        let lb = front(move || Flow {
            backends: vec![TcpBackend {
                target_id: "echo".into(),
                port: target.port(),
                addr: HttpAddress::Socket(target),
            }],
            proxy: ProxyHeader::V2,
            tls: None,
            tls_failed: None,
            backend_tls: None,
            idle_timeout: Duration::from_millis(200),
            cut: None,
            on_close: None,
        })
        .await;
        let mut c = TcpStream::connect(lb).await.unwrap();
        let started = Instant::now();
        let mut got = Vec::new();
        // The echo sends the PROXY header back; then nothing moves and the flow closes.
        tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut got))
            .await
            .unwrap()
            .unwrap();
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert_eq!(&got[..12], b"\r\n\r\n\0\r\nQUIT\n");
        assert_eq!(got.len(), 28, "header only, closed before <bye>");
    }
}

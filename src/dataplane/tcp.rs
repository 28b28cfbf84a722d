//! Network load balancer flows: a connection on a TCP listener's port is proxied byte for byte
//! to one healthy target, chosen when the connection opens (AWS picks a target per flow and
//! keeps it for the flow's life).
//!
//! - The target gets nothing the client did not send, except, when the group's
//!   `proxy_protocol_v2.enabled` is true, the PROXY protocol v2 header first (the client's
//!   address and the listener's, as a target behind an NLB reads it).
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

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::backend::{HttpAddress, Responder};

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
    /// Write the PROXY protocol v2 header to the target first.
    pub proxy_protocol_v2: bool,
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
            .field("proxy_protocol_v2", &self.proxy_protocol_v2)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

/// The PROXY protocol v2 header for a TCP connection from `client` to `listener` (a
/// `PROXY` command; IPv4 or IPv6 addresses, both of the client's family).
pub fn proxy_v2_header(client: SocketAddr, listener: SocketAddr) -> Vec<u8> {
    const SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
    let mut out = Vec::with_capacity(52);
    out.extend_from_slice(&SIGNATURE);
    // Version 2, command PROXY.
    out.push(0x21);
    let to_v6 = |a: SocketAddr| match a.ip() {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        std::net::IpAddr::V6(v6) => v6,
    };
    match (client.ip(), listener.ip()) {
        (std::net::IpAddr::V4(src), std::net::IpAddr::V4(dst)) => {
            // AF_INET, STREAM; 12 bytes of addresses.
            out.push(0x11);
            out.extend_from_slice(&12u16.to_be_bytes());
            out.extend_from_slice(&src.octets());
            out.extend_from_slice(&dst.octets());
        }
        _ => {
            // AF_INET6, STREAM; 36 bytes of addresses.
            out.push(0x21);
            out.extend_from_slice(&36u16.to_be_bytes());
            out.extend_from_slice(&to_v6(client).octets());
            out.extend_from_slice(&to_v6(listener).octets());
        }
    }
    out.extend_from_slice(&client.port().to_be_bytes());
    out.extend_from_slice(&listener.port().to_be_bytes());
    out
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
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
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

/// Serve one accepted connection of a TCP listener: connect to a target of `flow`, then
/// carry bytes both ways until both directions ended, one side reset, or the flow idled out.
pub async fn serve(client: TcpStream, peer: SocketAddr, flow: Flow) {
    let Flow {
        backends,
        proxy_protocol_v2,
        idle_timeout,
        cut,
        on_close,
    } = flow;
    let mut outcome = FlowOutcome::default();
    let connected = connect(&backends).await;
    if let Some((index, Leg::InProcess(responder))) = connected {
        outcome.served_by = Some(index);
        (outcome.from_client, outcome.from_target) =
            in_process::serve(client, responder, idle_timeout).await;
    } else if let Some((index, Leg::Socket(mut target))) = connected {
        outcome.served_by = Some(index);
        // Small writes (interactive protocols) go out at once on both legs.
        let _ = client.set_nodelay(true); // best effort: the flow works either way
        let _ = target.set_nodelay(true); // best effort
        let header_sent = if proxy_protocol_v2 {
            let local = client.local_addr().unwrap_or(peer);
            target
                .write_all(&proxy_v2_header(peer, local))
                .await
                .is_ok()
        } else {
            true
        };
        if header_sent {
            let cut = cut.map(|c| move || c(index));
            carry(client, target, idle_timeout, cut, &mut outcome).await;
        }
    } else {
        tracing::debug!(%peer, "no target took the flow; closing the client connection");
    }
    if let Some(done) = on_close {
        done(&outcome);
    }
}

/// Carry bytes both ways (see [`serve`]).
async fn carry(
    client: TcpStream,
    target: TcpStream,
    idle: Duration,
    cut: Option<impl Fn() -> bool>,
    outcome: &mut FlowOutcome,
) {
    let epoch = Instant::now();
    let last = Arc::new(AtomicU64::new(0));
    let (up_bytes, down_bytes) = (AtomicU64::new(0), AtomicU64::new(0));
    let (client_r, client_w) = client.into_split();
    let (target_r, target_w) = target.into_split();
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

    #[test]
    fn proxy_v2_headers_for_both_families() {
        let h = proxy_v2_header(
            "10.1.2.3:40000".parse().unwrap(),
            "127.0.0.1:80".parse().unwrap(),
        );
        assert_eq!(&h[..12], b"\r\n\r\n\0\r\nQUIT\n");
        assert_eq!(h[12..16], [0x21, 0x11, 0, 12]);
        assert_eq!(h[16..20], [10, 1, 2, 3]);
        assert_eq!(h[20..24], [127, 0, 0, 1]);
        assert_eq!(h[24..26], 40000u16.to_be_bytes());
        assert_eq!(h[26..28], 80u16.to_be_bytes());
        assert_eq!(h.len(), 28);
        let h6 = proxy_v2_header(
            "[::1]:5000".parse().unwrap(),
            "127.0.0.1:80".parse().unwrap(),
        );
        assert_eq!(h6[12..16], [0x21, 0x21, 0, 36]);
        assert_eq!(h6.len(), 16 + 36);
        assert_eq!(h6[16 + 15], 1);
        // The listener's IPv4 address, mapped.
        assert_eq!(h6[32 + 10..32 + 16], [0xff, 0xff, 127, 0, 0, 1]);
    }

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
                proxy_protocol_v2: false,
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
            proxy_protocol_v2: true,
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

//! Connection limits on the main port: how many connections may be open, how long a client
//! may take to send a request head, how long a keep-alive connection may sit idle, and how many
//! bytes of unfinished request heads all connections together may hold.
//!
//! Without them a few hundred clients that open connections and send nothing (or a head a
//! byte at a time) hold memory and file descriptors for ever, and new clients starve. Each
//! open connection has a [`Slot`] in the [`Tracker`]: a request in progress makes it busy;
//! between requests it is waiting, since a known instant, with so many head bytes received.
//! One sweeper task closes waiting connections past their limit. When every slot is taken, the
//! connection that has waited longest is closed to make room for the new one (an idle
//! keep-alive or a slow client: either way nobody is being answered on it); when every slot is
//! busy answering, the new connection gets a prompt 503 instead.
//!
//! A request's body is read under its own deadline ([`read_body`]): the connection is busy
//! then, out of the sweeper's reach.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// Open file descriptors kept back from the connection cap for everything else Updraft opens
/// (backend connections of the load balancers, listener ports, the Docker socket, files).
const FD_RESERVE: usize = 256;

/// At most one "limit reached" line per this many milliseconds (the rest are counted).
const LOG_EVERY_MS: u64 = 10_000;

/// The limits, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
    /// From the first byte of a request head to its end.
    pub header_timeout: Duration,
    /// From the end of an answer to the first byte of the next request.
    pub idle_timeout: Duration,
    /// Bytes of unfinished request heads held across all connections.
    pub max_header_bytes: usize,
}

impl Limits {
    /// The configured limits; the connection cap no higher than the open-file limit allows.
    pub fn from_config(config: &crate::Config) -> Self {
        let configured = config.max_connections.max(1);
        let max_connections = match open_file_limit() {
            Some(fds) => configured.min(fds.saturating_sub(FD_RESERVE).max(16)),
            None => configured,
        };
        if max_connections < configured {
            tracing::info!(
                max_connections,
                configured,
                "connection cap lowered to fit the open-file limit (ulimit -n)"
            );
        }
        Self {
            max_connections,
            header_timeout: Duration::from_secs_f64(config.header_read_timeout),
            idle_timeout: Duration::from_secs_f64(config.idle_timeout),
            max_header_bytes: config.max_header_bytes_in_flight,
        }
    }
}

/// The soft open-file limit, from `/proc/self/limits` (Linux; `None` elsewhere or unlimited).
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Every open connection's [`Slot`], and the bytes of unfinished heads among them.
#[derive(Debug)]
pub struct Tracker {
    limits: Limits,
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Slot>>>,
    header_bytes: AtomicUsize,
    last_log_ms: AtomicU64,
    unlogged: AtomicU64,
}

/// One open connection's state.
#[derive(Debug)]
pub struct Slot {
    id: u64,
    busy: AtomicBool,
    /// Milliseconds since the tracker's epoch when it began waiting for a request.
    waiting_since: AtomicU64,
    /// Milliseconds when the first byte of the next head arrived (meaningful when `head_bytes > 0`).
    head_since: AtomicU64,
    head_bytes: AtomicUsize,
    /// The idle timeout for this connection in milliseconds, when not the tracker's (a load
    /// balancer's own, once one has answered on it); 0: the tracker's.
    idle_ms: AtomicU64,
    closing: AtomicBool,
    close: Notify,
}

/// What to do with a new connection.
pub enum Admission {
    /// Serve it; it holds this slot until the [`Held`] is dropped.
    Serve(Held),
    /// Every slot is busy: refuse it.
    Refuse,
}

impl Tracker {
    /// A tracker for `limits`.
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::default(),
            header_bytes: AtomicUsize::new(0),
            last_log_ms: AtomicU64::new(0),
            unlogged: AtomicU64::new(0),
        })
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Take a slot for a new connection, closing the longest-waiting one when all are taken.
    pub fn admit(self: &Arc<Self>) -> Admission {
        let now = self.now_ms();
        let slot = Arc::new(Slot {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            busy: AtomicBool::new(false),
            waiting_since: AtomicU64::new(now),
            head_since: AtomicU64::new(now),
            head_bytes: AtomicUsize::new(0),
            idle_ms: AtomicU64::new(0),
            closing: AtomicBool::new(false),
            close: Notify::new(),
        });
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.len() >= self.limits.max_connections {
            // Closing ones are on their way out and do not count.
            let mut closing = 0;
            let mut victim: Option<&Arc<Slot>> = None;
            for s in open.values() {
                if s.closing.load(Ordering::Relaxed) {
                    closing += 1;
                } else if !s.busy.load(Ordering::Relaxed)
                    && victim.is_none_or(|v| {
                        s.waiting_since.load(Ordering::Relaxed)
                            < v.waiting_since.load(Ordering::Relaxed)
                    })
                {
                    victim = Some(s);
                }
            }
            if open.len() - closing >= self.limits.max_connections {
                match victim {
                    Some(v) => {
                        v.close_now();
                        self.log_limit("connection limit reached; closed the longest-waiting connection to admit a new one", open.len());
                    }
                    None => {
                        self.log_limit("connection limit reached and every connection is busy; refusing new connections with 503", open.len());
                        return Admission::Refuse;
                    }
                }
            }
        }
        open.insert(slot.id, slot.clone());
        Admission::Serve(Held {
            slot,
            tracker: self.clone(),
        })
    }

    /// The connection of `slot` has ended.
    fn release(&self, slot: &Slot) {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&slot.id);
        self.header_bytes.fetch_sub(
            slot.head_bytes.swap(0, Ordering::Relaxed),
            Ordering::Relaxed,
        );
    }

    /// A request head on `slot` is complete: its request is in progress until the guard
    /// (moved into the answer's body, see [`Tracked`]) is dropped.
    pub fn begin(self: &Arc<Self>, slot: &Arc<Slot>) -> InProgress {
        slot.busy.store(true, Ordering::Relaxed);
        self.header_bytes.fetch_sub(
            slot.head_bytes.swap(0, Ordering::Relaxed),
            Ordering::Relaxed,
        );
        InProgress {
            slot: slot.clone(),
            tracker: self.clone(),
        }
    }

    /// `n` bytes arrived on `slot`. Counted as head bytes unless a request is in progress;
    /// `Err` when that takes the total over the cap (the connection is then closed).
    fn received(&self, slot: &Slot, n: usize) -> io::Result<()> {
        if n == 0 || slot.busy.load(Ordering::Relaxed) {
            return Ok(());
        }
        if slot.head_bytes.fetch_add(n, Ordering::Relaxed) == 0 {
            slot.head_since.store(self.now_ms(), Ordering::Relaxed);
        }
        let total = self.header_bytes.fetch_add(n, Ordering::Relaxed) + n;
        if total > self.limits.max_header_bytes {
            self.log_limit(
                "unfinished request heads exceed --max-header-bytes-in-flight; closing the connection that went over",
                self.open_connections(),
            );
            return Err(io::Error::other("header bytes in flight over the cap"));
        }
        Ok(())
    }

    /// Close waiting connections past the header-read or idle timeout; returns how many.
    pub fn sweep(&self) -> usize {
        let now = self.now_ms();
        let header = self.limits.header_timeout.as_millis() as u64;
        let idle = self.limits.idle_timeout.as_millis() as u64;
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let mut closed = 0;
        for s in open.values() {
            if s.busy.load(Ordering::Relaxed) || s.closing.load(Ordering::Relaxed) {
                continue;
            }
            let expired = if s.head_bytes.load(Ordering::Relaxed) > 0 {
                now.saturating_sub(s.head_since.load(Ordering::Relaxed)) >= header
            } else {
                let own = s.idle_ms.load(Ordering::Relaxed);
                let idle = if own > 0 { own } else { idle };
                now.saturating_sub(s.waiting_since.load(Ordering::Relaxed)) >= idle
            };
            if expired {
                s.close_now();
                closed += 1;
            }
        }
        closed
    }

    /// How often [`Tracker::sweep`] should run: fine enough for the shorter timeout.
    pub fn sweep_every(&self) -> Duration {
        (self.limits.header_timeout.min(self.limits.idle_timeout) / 4)
            .clamp(Duration::from_millis(50), Duration::from_secs(1))
    }

    /// At shutdown: close every connection that waits with no request begun (a keep-alive
    /// connection with nothing to answer, or one that never sent a byte).
    pub fn close_waiting(&self) {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        for s in open.values() {
            if !s.busy.load(Ordering::Relaxed) && s.head_bytes.load(Ordering::Relaxed) == 0 {
                s.close_now();
            }
        }
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// One warning per [`LOG_EVERY_MS`], with how many were not logged since the last one.
    fn log_limit(&self, what: &'static str, open_connections: usize) {
        let now = self.now_ms();
        let last = self.last_log_ms.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < LOG_EVERY_MS {
            self.unlogged.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // `max(1)`: 0 means "never logged".
        self.last_log_ms.store(now.max(1), Ordering::Relaxed);
        let suppressed = self.unlogged.swap(0, Ordering::Relaxed);
        tracing::warn!(
            max_connections = self.limits.max_connections,
            max_header_bytes_in_flight = self.limits.max_header_bytes,
            open_connections,
            similar_events_not_logged = suppressed,
            "{what}"
        );
    }
}

impl Slot {
    /// Use `idle` as this connection's idle timeout from now on.
    pub fn set_idle_timeout(&self, idle: Duration) {
        self.idle_ms
            .store((idle.as_millis() as u64).max(1), Ordering::Relaxed);
    }

    fn close_now(&self) {
        self.closing.store(true, Ordering::Relaxed);
        self.close.notify_one();
    }

    /// Resolves when the tracker wants this connection closed.
    pub async fn closed(&self) {
        self.close.notified().await;
    }
}

/// Why a request body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Longer than the limit.
    TooLarge,
    /// The connection failed or the framing was broken.
    Unreadable,
    /// Not complete within the body-read timeout.
    TimedOut,
}

/// Read a request body of at most `limit` bytes, all of it within `timeout` from now (from
/// the end of its head: hyper calls the service as soon as the head is parsed).
///
/// While a body is read its connection counts as busy, so the sweeper's header-read and idle
/// timeouts do not apply: without this deadline a client that sends a head and then trickles
/// its body, or stops, would hold a connection slot and up to `limit` bytes for ever.
pub async fn read_body(
    body: hyper::body::Incoming,
    limit: usize,
    timeout: Duration,
) -> Result<bytes::Bytes, BodyError> {
    use http_body_util::BodyExt;
    let collect = http_body_util::Limited::new(body, limit).collect();
    match tokio::time::timeout(timeout, collect).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(err)) if err.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge),
        Ok(Err(_)) => Err(BodyError::Unreadable),
        Err(_) => Err(BodyError::TimedOut),
    }
}

/// HTTP/2 with prior knowledge (`PRI * HTTP/2.0`) opens with this. hyper, serving HTTP/1 only,
/// closes such a connection without a word; [`h2_prior_knowledge`] spots it first so that the
/// client gets an answer.
const H2_PREFACE_START: &[u8] = b"PRI * HTTP/2.0";

/// Whether the client opened with HTTP/2's preface. Waits for the first bytes (the caller
/// races this against the connection's limits).
pub async fn h2_prior_knowledge(stream: &TcpStream) -> bool {
    let mut buf = [0u8; H2_PREFACE_START.len()];
    for _ in 0..50 {
        let n = match stream.peek(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        if buf[..n] != H2_PREFACE_START[..n] {
            return false;
        }
        if n == buf.len() {
            return true;
        }
        // A prefix of the preface so far: look again once more has arrived.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// Answer a connection that opened with HTTP/2's preface with `answer` (a whole HTTP/1.1
/// response) and close it, after reading what the client sent so that the close does not
/// reset the connection under the answer.
pub async fn answer_and_close(mut stream: TcpStream, answer: &[u8]) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if stream.write_all(answer).await.is_err() {
        return;
    }
    // Best effort from here: the answer is out.
    let _ = stream.shutdown().await;
    let mut sink = [0u8; 4096];
    let drain = async {
        let mut total = 0;
        while let Ok(n) = stream.read(&mut sink).await {
            total += n;
            if n == 0 || total > 64 * 1024 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(500), drain).await;
}

/// A connection's socket, counting what arrives between requests into its slot.
pub struct Counted {
    stream: TcpStream,
    slot: Arc<Slot>,
    tracker: Arc<Tracker>,
}

impl Counted {
    /// Count `stream`'s bytes into `slot`.
    pub fn new(stream: TcpStream, slot: Arc<Slot>, tracker: Arc<Tracker>) -> Self {
        Self {
            stream,
            slot,
            tracker,
        }
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let n = buf.filled().len() - before;
            self.tracker.received(&self.slot, n)?;
        }
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// A connection's slot, given back when dropped (also when the connection's task is aborted).
#[derive(Debug)]
pub struct Held {
    /// The slot.
    pub slot: Arc<Slot>,
    /// Its tracker.
    pub tracker: Arc<Tracker>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.tracker.release(&self.slot);
    }
}

/// A request in progress on a slot; dropping it makes the slot wait for the next request.
#[derive(Debug)]
pub struct InProgress {
    slot: Arc<Slot>,
    tracker: Arc<Tracker>,
}

impl Drop for InProgress {
    fn drop(&mut self) {
        let now = self.tracker.now_ms();
        self.slot.waiting_since.store(now, Ordering::Relaxed);
        self.slot.busy.store(false, Ordering::Relaxed);
    }
}

/// An answer's body that keeps its request in progress until hyper has sent all of it and
/// drops it (a long download is not an idle connection).
pub struct Tracked<B> {
    inner: B,
    _in_progress: InProgress,
}

impl<B> Tracked<B> {
    /// `inner`, holding `in_progress` until dropped.
    pub fn new(inner: B, in_progress: InProgress) -> Self {
        Self {
            inner,
            _in_progress: in_progress,
        }
    }
}

impl<B: hyper::body::Body + Unpin> hyper::body::Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

//! Keep-alive HTTP/1.1 connections to socket backends (containers, loopback `ip` targets).
//!
//! One list of idle connections per backend address. A request takes an idle connection (or
//! opens one), writes its head and body, and reads the response head, all in the request's own
//! task; the response body reads the rest from the same socket as the client side asks for it,
//! and gives the connection back when it has been read to the end. A response dropped half-read
//! closes its connection instead. No connection task, no channel between tasks, no general
//! client's per-request work (URI parsing, pool keys by scheme and authority, connect races):
//! the proxy's CPU per request is what its benchmark measures. The bytes are in [`super::h1`].
//!
//! A connection that sat idle is checked before use: one the backend closed, or sent anything
//! on unasked, is dropped. When the backend turns out to have closed it anyway (the close
//! crossed the request), a request without a body is sent again on a fresh connection, as the
//! backend never saw it.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use super::h1::{self, Dechunked, RequestFraming, ResponseFraming, ResponseHead, WireError};
use super::proxy::{BoxError, ProxyBody};
use crate::server::lanes;
use crate::state::fasthash::FastMap;

/// Idle connections kept per backend address.
const MAX_IDLE_PER_BACKEND: usize = 256;
/// Spare room the read buffer gets before each read.
const READ_ROOM: usize = 16 * 1024;
/// Body chunks up to this size are copied next to their chunk header (one write, not three).
const COPY_CHUNK: usize = 16 * 1024;

/// Idle connections by (connection lane, backend address): a connection's socket and timer
/// are registered with the event loop of the lane that opened it, so only that lane reuses it
/// (`crate::server::lanes`; lane 0 is the main runtime).
type Idle = Arc<Mutex<FastMap<(u32, SocketAddr), Vec<Conn>>>>;

/// One connection to a backend, with the bytes read from it and not yet used.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    read: BytesMut,
    write: Vec<u8>,
    /// The idle-timeout timer, kept with the connection and moved later for each exchange:
    /// moving a registered timer's deadline later costs one atomic update, where a new timer
    /// per exchange went into the runtime's timer wheel and out again.
    timer: Option<Pin<Box<Sleep>>>,
}

impl Conn {
    fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            read: BytesMut::with_capacity(READ_ROOM),
            write: Vec::with_capacity(1024),
            timer: None,
        }
    }

    /// Whether a connection that sat idle can take a request: the backend has neither closed
    /// it nor sent anything unasked. Makes a system call only when the socket is flagged
    /// readable.
    fn is_usable(&self) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Read what the socket has into `read`; `Ok(0)` at the end of the stream.
    ///
    /// A read that leaves room in the buffer has drained the socket (epoll is edge-triggered):
    /// its readiness is cleared then, as tokio's own `poll_read` does, instead of by one more
    /// read that would find nothing. Without it every exchange cost that extra system call
    /// (here, or in [`Conn::is_usable`]'s probe at the next checkout).
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.read.capacity() - self.read.len() < READ_ROOM / 4 {
            self.read.reserve(READ_ROOM);
        }
        let Self { stream, read, .. } = self;
        loop {
            ready!(stream.poll_read_ready(cx))?;
            let room = read.capacity() - read.len();
            let mut got = None;
            let tried = stream.try_io(Interest::READABLE, || {
                let n = stream.try_read_buf(read)?;
                got = Some(n);
                if n > 0 && n < room {
                    // Drained: `try_io` clears the readiness on this "error".
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                Ok(n)
            });
            match (got, tried) {
                (Some(n), _) => return Poll::Ready(Ok(n)),
                (None, Err(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                (None, Err(e)) => return Poll::Ready(Err(e)),
                (None, Ok(n)) => return Poll::Ready(Ok(n)),
            }
        }
    }

    async fn fill(&mut self) -> io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_fill(cx)).await
    }
}

/// A request as the proxy sends it: the request line's parts and the headers the backend is
/// to see (already end-to-end only, with `X-Forwarded-*`).
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The method.
    pub method: &'a Method,
    /// Origin-form target (`/path?query`).
    pub target: &'a str,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// Headers the proxy adds, written after `headers` (which do not repeat them).
    pub extra: &'a [(HeaderName, HeaderValue)],
    /// How long the backend may take to start its answer once the request has been sent
    /// (the load balancer's idle timeout; real time). `None`: no limit.
    pub idle_timeout: Option<Duration>,
}

/// Why a request got no response.
#[derive(Debug)]
pub enum SendError {
    /// The backend could not be reached, and nothing was sent: the request may go to another
    /// backend.
    Connect(io::Error),
    /// The request was sent and no response head arrived within [`Outgoing::idle_timeout`].
    IdleTimeout,
    /// The backend closed or reset the connection before its answer was complete.
    Closed(io::Error),
    /// The exchange failed after the request was (or may have been) sent.
    Exchange(BoxError),
    /// The client's request body broke off or was malformed mid-stream: the client's fault
    /// (the backend connection is dropped mid-body).
    ClientBody(BoxError),
}

/// How one exchange on a connection failed.
#[derive(Debug)]
enum Failure {
    /// A reused connection turned out closed before the backend saw anything of the request.
    Stale,
    /// No response head within the idle timeout.
    IdleTimeout,
    /// The connection broke (closed, reset) mid-exchange.
    Closed(io::Error),
    /// The client's body could not be read to its end.
    ClientBody(BoxError),
    /// Anything else.
    Failed(BoxError),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Self::Closed(e)
    }
}

impl From<WireError> for Failure {
    fn from(e: WireError) -> Self {
        Self::Failed(e.into())
    }
}

/// The pool (one per server, inside `state.dataplane`).
#[derive(Debug, Default)]
pub struct BackendPool {
    idle: Idle,
}

impl BackendPool {
    /// Send a request to `addr`, with its body when it has one, and return the response once its
    /// head has arrived (the body streams from the backend as it is read).
    pub async fn send<B>(
        &self,
        addr: SocketAddr,
        out: &Outgoing<'_>,
        mut body: Option<B>,
    ) -> Result<Response<ProxyBody>, SendError>
    where
        B: Body<Data = Bytes> + Unpin,
        B::Error: Into<BoxError>,
    {
        let framing = match &body {
            Some(b) if !b.is_end_stream() => {
                if out.headers.contains_key(http::header::CONTENT_LENGTH) {
                    RequestFraming::Length
                } else {
                    RequestFraming::Chunked
                }
            }
            _ => RequestFraming::None,
        };
        while let Some(mut conn) = self.checkout(addr) {
            match exchange(&mut conn, out, framing, &mut body, true).await {
                Ok(head) => return self.respond(addr, conn, out.method, head),
                // The backend never saw it: another connection.
                Err(Failure::Stale) => {}
                Err(Failure::IdleTimeout) => return Err(SendError::IdleTimeout),
                Err(Failure::Closed(e)) => return Err(SendError::Closed(e)),
                Err(Failure::Failed(e)) => return Err(SendError::Exchange(e)),
                Err(Failure::ClientBody(e)) => return Err(SendError::ClientBody(e)),
            }
        }
        let stream = TcpStream::connect(addr).await.map_err(SendError::Connect)?;
        // Small request/response pairs: don't let Nagle delay them.
        let _ = stream.set_nodelay(true);
        let mut conn = Conn::new(stream);
        match exchange(&mut conn, out, framing, &mut body, false).await {
            Ok(head) => self.respond(addr, conn, out.method, head),
            Err(Failure::Stale) => Err(SendError::Closed(io::ErrorKind::UnexpectedEof.into())),
            Err(Failure::IdleTimeout) => Err(SendError::IdleTimeout),
            Err(Failure::Closed(e)) => Err(SendError::Closed(e)),
            Err(Failure::Failed(e)) => Err(SendError::Exchange(e)),
            Err(Failure::ClientBody(e)) => Err(SendError::ClientBody(e)),
        }
    }

    /// An idle connection to `addr` that can take a request.
    fn checkout(&self, addr: SocketAddr) -> Option<Conn> {
        loop {
            let conn = {
                let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
                idle.get_mut(&(lanes::current(), addr))?.pop()?
            };
            if conn.is_usable() {
                return Some(conn);
            }
        }
    }

    fn respond(
        &self,
        addr: SocketAddr,
        conn: Conn,
        method: &Method,
        head: ResponseHead,
    ) -> Result<Response<ProxyBody>, SendError> {
        let framing = head
            .framing(method)
            .map_err(|e| SendError::Exchange(e.into()))?;
        let reusable = head.keeps_alive() && !matches!(framing, ResponseFraming::UntilClose);
        let mut resp = Response::new(());
        *resp.status_mut() = head.status;
        *resp.headers_mut() = head.headers;
        if let Some(reason) = head
            .reason
            .and_then(|r| hyper::ext::ReasonPhrase::try_from(r).ok())
        {
            resp.extensions_mut().insert(reason);
        }
        let mut body = BackendBody {
            conn: Some(conn),
            framing,
            reusable,
            key: (lanes::current(), addr),
            idle: self.idle.clone(),
        };
        if body.framing_done() {
            body.finish();
        }
        Ok(resp.map(|()| body.boxed()))
    }
}

/// Write the request (head, then body) and read the response head, within the idle timeout
/// once the request is out (an upload takes as long as the client takes to send it).
/// `reused`: the connection sat idle before, so an early close means it was stale.
async fn exchange<B>(
    conn: &mut Conn,
    out: &Outgoing<'_>,
    framing: RequestFraming,
    body: &mut Option<B>,
    reused: bool,
) -> Result<ResponseHead, Failure>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    conn.write.clear();
    h1::write_request_head(
        &mut conn.write,
        out.method,
        out.target,
        out.headers,
        out.extra,
        framing,
    );
    if let Err(e) = conn.stream.write_all(&conn.write).await {
        return Err(if reused { Failure::Stale } else { e.into() });
    }
    if framing != RequestFraming::None
        && let Some(body) = body.as_mut()
    {
        send_body(conn, body, framing == RequestFraming::Chunked).await?;
    }
    let Some(limit) = out.idle_timeout else {
        return read_head(conn, framing, reused).await;
    };
    let Some(deadline) = Instant::now().checked_add(limit) else {
        return read_head(conn, framing, reused).await;
    };
    let mut timer = match conn.timer.take() {
        Some(mut timer) => {
            timer.as_mut().reset(deadline);
            timer
        }
        None => Box::pin(tokio::time::sleep_until(deadline)),
    };
    let result = {
        let head = read_head(conn, framing, reused);
        let mut head = std::pin::pin!(head);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(head) = head.as_mut().poll(cx) {
                return Poll::Ready(head);
            }
            timer.as_mut().poll(cx).map(|()| Err(Failure::IdleTimeout))
        })
        .await
    };
    conn.timer = Some(timer);
    result
}

/// Read the response head, skipping interim (1xx) responses.
async fn read_head(
    conn: &mut Conn,
    framing: RequestFraming,
    reused: bool,
) -> Result<ResponseHead, Failure> {
    // Nothing at all came back yet (not even an interim answer).
    let mut silent = true;
    loop {
        if let Some(head) = h1::parse_response_head(&mut conn.read)? {
            if head.status.as_u16() == 101 {
                return Err(Failure::Failed(
                    "the backend switched protocols unasked".into(),
                ));
            }
            if head.status.is_informational() {
                silent = false;
                continue;
            }
            return Ok(head);
        }
        let read = conn.fill().await;
        // A reused connection that ends (closed, or reset) before any answer to a request
        // without a body was stale: the backend closed it while it sat idle.
        let stale = reused
            && silent
            && conn.read.is_empty()
            && framing == RequestFraming::None
            && !matches!(read, Ok(n) if n > 0);
        match read {
            _ if stale => return Err(Failure::Stale),
            Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Stream a request body to the backend as the client sends it (trailers are dropped).
async fn send_body<B>(conn: &mut Conn, body: &mut B, chunked: bool) -> Result<(), Failure>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Failure::ClientBody(e.into()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        if !chunked {
            conn.stream.write_all(&data).await?;
            continue;
        }
        conn.write.clear();
        h1::write_chunk_header(&mut conn.write, data.len());
        if data.len() <= COPY_CHUNK {
            conn.write.extend_from_slice(&data);
            conn.write.extend_from_slice(b"\r\n");
            conn.stream.write_all(&conn.write).await?;
        } else {
            conn.stream.write_all(&conn.write).await?;
            conn.stream.write_all(&data).await?;
            conn.stream.write_all(b"\r\n").await?;
        }
    }
    if chunked {
        conn.stream.write_all(h1::LAST_CHUNK).await?;
    }
    Ok(())
}

/// A backend's response body, read from its connection as it is polled; the connection goes
/// back to the pool once the body has been read to the end.
struct BackendBody {
    /// `None` once finished (given back or closed).
    conn: Option<Conn>,
    framing: ResponseFraming,
    /// Whether the connection may carry another request after this response.
    reusable: bool,
    /// Where the connection goes back to: its lane and backend address.
    key: (u32, SocketAddr),
    idle: Idle,
}

impl BackendBody {
    /// Whether the framing says the body is complete.
    fn framing_done(&self) -> bool {
        match &self.framing {
            ResponseFraming::Length(left) => *left == 0,
            ResponseFraming::Chunked(d) => d.is_done(),
            ResponseFraming::UntilClose => false,
        }
    }

    /// The body is complete: give the connection back when it can carry another request.
    fn finish(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        // Bytes beyond the response were not asked for: the connection is out of step.
        if !self.reusable || !conn.read.is_empty() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let list = idle.entry(self.key).or_default();
        if list.len() < MAX_IDLE_PER_BACKEND {
            list.push(conn);
        }
    }

    /// Take the next frame from bytes already read; `None` when more must be read first.
    fn next_buffered(&mut self) -> Option<Option<Result<Frame<Bytes>, BoxError>>> {
        let conn = self.conn.as_mut()?;
        match &mut self.framing {
            ResponseFraming::Length(0) => None,
            ResponseFraming::Length(left) => {
                if conn.read.is_empty() {
                    return None;
                }
                let take =
                    usize::try_from(*left).map_or(conn.read.len(), |l| l.min(conn.read.len()));
                *left -= take as u64;
                let data = conn.read.split_to(take).freeze();
                Some(Some(Ok(Frame::data(data))))
            }
            ResponseFraming::Chunked(d) => match d.step(&mut conn.read) {
                Ok(Dechunked::Data(data)) => Some(Some(Ok(Frame::data(data)))),
                Ok(Dechunked::NeedMore) => None,
                Ok(Dechunked::Done) => Some(None),
                Err(e) => {
                    self.conn = None;
                    Some(Some(Err(e.into())))
                }
            },
            ResponseFraming::UntilClose => {
                (!conn.read.is_empty()).then(|| Some(Ok(Frame::data(conn.read.split().freeze()))))
            }
        }
    }
}

impl Body for BackendBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            if this.conn.is_none() {
                return Poll::Ready(None);
            }
            if let Some(frame) = this.next_buffered() {
                if this.framing_done() {
                    this.finish();
                }
                return Poll::Ready(frame);
            }
            if this.framing_done() {
                this.finish();
                return Poll::Ready(None);
            }
            let Some(conn) = this.conn.as_mut() else {
                return Poll::Ready(None);
            };
            match ready!(conn.poll_fill(cx)) {
                Ok(0) => {
                    this.conn = None;
                    return Poll::Ready(match this.framing {
                        ResponseFraming::UntilClose => None,
                        _ => Some(Err(io::Error::from(io::ErrorKind::UnexpectedEof).into())),
                    });
                }
                Ok(_) => {}
                Err(e) => {
                    this.conn = None;
                    return Poll::Ready(Some(Err(e.into())));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.conn.is_none() || self.framing_done()
    }

    fn size_hint(&self) -> SizeHint {
        match self.framing {
            ResponseFraming::Length(left) => SizeHint::with_exact(left),
            _ => SizeHint::default(),
        }
    }
}

#[cfg(test)]
#[path = "pool_tests.rs"]
mod tests;

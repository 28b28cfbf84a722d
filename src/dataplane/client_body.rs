//! The client's request body as the proxy forwards it: read ahead (up to [`READ_AHEAD`])
//! before any byte goes to a backend.
//!
//! A malformed body (a chunk size like `zz`, `-5` or 19 hex digits, more data than the chunk
//! size said, a missing CRLF, fewer bytes than `Content-Length` before the client hangs up) is
//! then the client's `400`, as AWS's load balancers answer it, and no backend ever sees a
//! truncated request. A body larger than the read-ahead streams on after it; a framing error
//! past that point still answers 400 and abandons the backend connection mid-body, so the
//! backend sees an incomplete request, never a complete-looking one.
//!
//! A client that stops sending mid-body is answered `408` (the load balancers' "client sent
//! no data within the idle timeout") once no byte of the body has arrived for the body's idle
//! limit (the smaller of `--body-read-timeout` and the load balancer's idle timeout). As
//! AWS's load balancers do for uploads, each byte that arrives restarts the limit, so a long
//! upload that keeps sending goes through
//! (<https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/config-idle-timeout.html>).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use tokio::time::{Instant, Sleep};

/// How much of a request body is read before the request is sent on.
pub const READ_AHEAD: usize = 1 << 20;

/// Why a client's body could not be read to its end.
#[derive(Debug)]
pub enum BodyError {
    /// Broken framing, or the client hung up early.
    Malformed(hyper::Error),
    /// No byte of the body arrived within its idle limit.
    TimedOut,
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "malformed request body: {e}"),
            Self::TimedOut => f.write_str("the client sent no body data within the idle limit"),
        }
    }
}

impl std::error::Error for BodyError {}

impl BodyError {
    /// Whether `err` (as the backend pool hands it back) is a body that timed out.
    pub fn is_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
        matches!(err.downcast_ref::<Self>(), Some(Self::TimedOut))
    }
}

/// A request body: the part read ahead, then the rest as the client sends it, each frame
/// within `idle` of the one before.
#[derive(Debug)]
pub struct ClientBody {
    buffered: VecDeque<Bytes>,
    buffered_len: u64,
    rest: Option<Incoming>,
    idle: Duration,
    /// When the client's silence becomes a [`BodyError::TimedOut`]; runs only while the proxy
    /// waits for the client (`armed`), so time the backend takes to accept what was sent
    /// before is not the client's silence. Made the first time the proxy waits (most bodies
    /// are read whole ahead, and a timer per request would be spent for nothing).
    deadline: Option<Pin<Box<Sleep>>>,
    armed: bool,
}

/// Read up to [`READ_AHEAD`] bytes of `body` (all of it when smaller); `Err` when its framing is
/// broken within that, or when the client sends nothing for `idle`.
pub async fn read_ahead(mut body: Incoming, idle: Duration) -> Result<ClientBody, BodyError> {
    let mut buffered = VecDeque::new();
    let mut total = 0usize;
    let done = |buffered, total: usize, rest| ClientBody {
        buffered,
        buffered_len: total as u64,
        rest,
        idle,
        deadline: None,
        armed: false,
    };
    // No body at all (most GETs): no timer to set up.
    if body.is_end_stream() {
        return Ok(done(buffered, total, None));
    }
    while total <= READ_AHEAD {
        let frame = tokio::time::timeout(idle, body.frame())
            .await
            .map_err(|_| BodyError::TimedOut)?;
        match frame {
            None => return Ok(done(buffered, total, None)),
            Some(Err(e)) => return Err(BodyError::Malformed(e)),
            Some(Ok(frame)) => {
                // Trailers are dropped, as the proxy always did.
                if let Ok(data) = frame.into_data()
                    && !data.is_empty()
                {
                    total += data.len();
                    buffered.push_back(data);
                }
            }
        }
    }
    Ok(done(buffered, total, Some(body)))
}

impl Body for ClientBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        if let Some(data) = self.buffered.pop_front() {
            self.buffered_len -= data.len() as u64;
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        let this = &mut *self;
        let Some(rest) = &mut this.rest else {
            return Poll::Ready(None);
        };
        match Pin::new(rest).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.armed = false;
                Poll::Ready(frame.map(|f| f.map_err(BodyError::Malformed)))
            }
            Poll::Pending => {
                let deadline = match &mut this.deadline {
                    Some(d) if this.armed => d,
                    Some(d) => {
                        d.as_mut().reset(Instant::now() + this.idle);
                        d
                    }
                    None => this.deadline.insert(Box::pin(tokio::time::sleep_until(
                        Instant::now() + this.idle,
                    ))),
                };
                this.armed = true;
                match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(BodyError::TimedOut))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.buffered.is_empty() && self.rest.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        match &self.rest {
            None => SizeHint::with_exact(self.buffered_len),
            Some(rest) => {
                let r = rest.size_hint();
                let mut hint = SizeHint::new();
                hint.set_lower(r.lower() + self.buffered_len);
                if let Some(upper) = r.upper() {
                    hint.set_upper(upper + self.buffered_len);
                }
                hint
            }
        }
    }
}

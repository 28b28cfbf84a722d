//! The client's request body as the proxy forwards it: read ahead (up to [`READ_AHEAD`])
//! before any byte goes to a backend.
//!
//! A malformed body (a chunk size like `zz`, `-5` or 19 hex digits, more data than the chunk
//! size said, a missing CRLF, fewer bytes than `Content-Length` before the client hangs up) is
//! then the client's `400`, as AWS's load balancers answer it, and no backend ever sees a
//! truncated request. A body larger than the read-ahead streams on after it; a framing error
//! past that point still answers 400 and abandons the backend connection mid-body, so the
//! backend sees an incomplete request, never a complete-looking one.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};

/// How much of a request body is read before the request is sent on.
pub const READ_AHEAD: usize = 1 << 20;

/// A request body: the part read ahead, then the rest as the client sends it.
#[derive(Debug)]
pub struct ClientBody {
    buffered: VecDeque<Bytes>,
    buffered_len: u64,
    rest: Option<Incoming>,
}

/// Read up to [`READ_AHEAD`] bytes of `body` (all of it when smaller); `Err` when its framing is
/// broken within that.
pub async fn read_ahead(mut body: Incoming) -> Result<ClientBody, hyper::Error> {
    let mut buffered = VecDeque::new();
    let mut total = 0usize;
    while total <= READ_AHEAD {
        match body.frame().await {
            None => {
                return Ok(ClientBody {
                    buffered,
                    buffered_len: total as u64,
                    rest: None,
                });
            }
            Some(Err(e)) => return Err(e),
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
    Ok(ClientBody {
        buffered,
        buffered_len: total as u64,
        rest: Some(body),
    })
}

impl Body for ClientBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        if let Some(data) = self.buffered.pop_front() {
            self.buffered_len -= data.len() as u64;
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        match &mut self.rest {
            Some(rest) => Pin::new(rest).poll_frame(cx),
            None => Poll::Ready(None),
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

//! A prompt, well-formed refusal for a connection Updraft will not serve: one that arrives
//! while the server drains at shutdown, or when every connection slot is busy.
//!
//! The refusal is a `503 ServiceUnavailable` in the client's protocol with `Connection:
//! close`: the SDKs retry a 503 on their own, where a reset or a bare close would surface as a
//! connection error. The request is read (briefly, bounded) before the answer, so that closing
//! does not reset the connection under the answer: unread bytes make the kernel send a RST,
//! and a RST can discard the answer at the client before it reads it.

use std::convert::Infallible;
use std::time::Duration;

use http::{HeaderValue, Request};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;

use crate::error::ApiError;
use crate::protocol::render;

/// How long a refused client gets to send its request head, and then its body.
const READ_LIMIT: Duration = Duration::from_secs(1);

/// The most of a refused request's body that is read (and dropped) before answering.
const BODY_LIMIT: usize = 1 << 20;

/// Why a connection is refused.
#[derive(Debug, Clone, Copy)]
pub enum Why {
    /// The server is shutting down.
    ShuttingDown,
    /// Every connection slot is in use by a request in progress.
    Busy,
}

impl Why {
    fn message(self) -> &'static str {
        match self {
            Why::ShuttingDown => "Updraft is shutting down; retry against a running server.",
            Why::Busy => {
                "Updraft is serving the most connections it allows (--max-connections); retry shortly."
            }
        }
    }
}

/// Answer every request on `stream` with a 503 and close it; never takes longer than a few
/// seconds.
pub async fn refuse(stream: TcpStream, why: Why) {
    // Best effort: the answer goes out either way.
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req: Request<Incoming>| async move {
        let hint = super::protocol_hint(req.headers());
        // The body is dropped: only read so that the close is clean (see the module doc). An
        // error or a timeout just means the client sent less; the answer is the same.
        let _ = tokio::time::timeout(
            READ_LIMIT,
            Limited::new(req.into_body(), BODY_LIMIT).collect(),
        )
        .await;
        let error = ApiError {
            code: "ServiceUnavailable".into(),
            message: why.message().to_owned(),
            status: 503,
            sender_fault: false,
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        let rendered = render::error(None, hint, &error, &request_id, false);
        let mut resp = super::finish(rendered, &request_id);
        resp.headers_mut()
            .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        Ok::<_, Infallible>(resp)
    });
    let conn = http1::Builder::new()
        .keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(READ_LIMIT)
        .serve_connection(TokioIo::new(stream), service);
    match tokio::time::timeout(READ_LIMIT * 3, conn).await {
        Ok(Err(err)) => tracing::debug!(error = %err, "refused connection ended with an error"),
        Err(_) => tracing::debug!("refused connection timed out"),
        Ok(Ok(())) => {}
    }
}

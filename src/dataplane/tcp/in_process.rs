//! A flow to a simulated instance: the client's bytes are read as HTTP/1.1 with keep-alive and
//! each request is answered by the instance's responder (the request body is read, bounded, and
//! dropped: a simulated instance answers by method and path). A connection that sends no
//! request head within the flow's idle timeout is closed, and so is one the load balancer
//! closes (connection draining over).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::backend::{HttpRequest, Responder};

/// The most request body a simulated instance reads.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The client's connection, counting the bytes each way (for `ProcessedBytes`).
struct Counting<S> {
    inner: S,
    read: u64,
    written: u64,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counting<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.read += (buf.filled().len() - before) as u64;
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counting<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            self.written += n as u64;
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serve `client` until it closes, goes idle for `idle`, sends something that is not HTTP, or
/// the load balancer closes the flow (`cut`, asked every [`super::CUT_POLL`]).
/// Returns the bytes (from the client, to the client).
pub(super) async fn serve<S>(
    client: S,
    responder: Responder,
    idle: Duration,
    cut: Option<impl Fn() -> bool>,
) -> (u64, u64)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let responder = responder.clone();
        async move { Ok::<_, Infallible>(answer(&responder, req).await) }
    });
    let mut io = TokioIo::new(Counting {
        inner: client,
        read: 0,
        written: 0,
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(idle)
        .serve_connection(&mut io, service);
    let served = match cut {
        None => conn.await,
        Some(cut) => tokio::select! {
            r = conn => r,
            () = until_cut(cut) => {
                tracing::debug!("flow to a simulated instance closed by the load balancer");
                Ok(())
            }
        },
    };
    if let Err(err) = served {
        tracing::debug!(error = %err, "flow to a simulated instance ended with an error");
    }
    let counted = io.into_inner();
    (counted.read, counted.written)
}

/// Returns once `cut` says the flow is to be closed.
async fn until_cut(cut: impl Fn() -> bool) {
    while !cut() {
        tokio::time::sleep(super::CUT_POLL).await;
    }
}

async fn answer(responder: &Responder, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    if Limited::new(body, MAX_BODY_BYTES).collect().await.is_err() {
        let mut resp = Response::new(Full::new(Bytes::new()));
        *resp.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
        return resp;
    }
    let reply = responder(&HttpRequest {
        method: parts.method.as_str().to_owned(),
        path: parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned(),
    });
    let mut resp = Response::new(Full::new(Bytes::from(reply.body)));
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(reply.content_type),
    );
    resp
}

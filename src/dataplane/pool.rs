//! Keep-alive HTTP/1.1 connections to socket backends (containers, loopback `ip` targets).
//!
//! One list of idle connections per backend address. A request takes an idle connection (or
//! opens one), sends, and the response body gives the connection back when it has been read to
//! the end; a response dropped half-read closes its connection instead. This is all a load
//! balancer needs of a client, without a general client's per-request work (URI parsing,
//! pool keys by scheme and authority, connect races): the proxy's CPU per request is what its
//! benchmark measures.
//!
//! A request that could not be written on a reused connection (the backend had closed it while
//! it sat idle) is sent again on a fresh one, as the request was never seen by the backend.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

use super::proxy::ProxyBody;

/// Idle connections kept per backend address.
const MAX_IDLE_PER_BACKEND: usize = 256;

type Sender = SendRequest<ProxyBody>;
type Idle = Arc<Mutex<HashMap<SocketAddr, Vec<Sender>>>>;

/// Why a request got no response.
#[derive(Debug)]
pub enum SendError {
    /// The backend could not be reached (nothing was sent): the request comes back, for
    /// another backend to take.
    Connect(std::io::Error, Box<Request<ProxyBody>>),
    /// The exchange failed after the request was (or may have been) sent.
    Exchange(hyper::Error),
}

/// The pool (one per server, inside `state.dataplane`).
#[derive(Debug, Default)]
pub struct BackendPool {
    idle: Idle,
}

impl BackendPool {
    /// Send `req` (origin-form URI, headers as the backend should see them) to `addr`.
    pub async fn send(
        &self,
        addr: SocketAddr,
        mut req: Request<ProxyBody>,
    ) -> Result<Response<ProxyBody>, SendError> {
        // Reused connections first; each may turn out closed, then a fresh one.
        while let Some(mut sender) = self.checkout(addr) {
            if sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(req).await {
                Ok(resp) => return Ok(self.wrap(addr, sender, resp)),
                Err(mut err) => match err.take_message() {
                    // Not written: the connection was gone; try another.
                    Some(back) => req = back,
                    None => return Err(SendError::Exchange(err.into_error())),
                },
            }
        }
        let mut sender = match connect(addr).await {
            Ok(sender) => sender,
            Err(err) => return Err(SendError::Connect(err, Box::new(req))),
        };
        sender.ready().await.map_err(SendError::Exchange)?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(SendError::Exchange)?;
        Ok(self.wrap(addr, sender, resp))
    }

    fn checkout(&self, addr: SocketAddr) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let list = idle.get_mut(&addr)?;
        while let Some(sender) = list.pop() {
            if !sender.is_closed() {
                return Some(sender);
            }
        }
        None
    }

    fn wrap(
        &self,
        addr: SocketAddr,
        sender: Sender,
        resp: Response<Incoming>,
    ) -> Response<ProxyBody> {
        let (parts, body) = resp.into_parts();
        let body = Returning {
            body,
            sender: Some(sender),
            addr,
            idle: self.idle.clone(),
        };
        Response::from_parts(parts, body.boxed())
    }
}

async fn connect(addr: SocketAddr) -> std::io::Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    // Small request/response pairs: don't let Nagle delay them.
    let _ = stream.set_nodelay(true);
    let (sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        if let Err(err) = conn.await {
            tracing::debug!(error = %err, "backend connection ended with an error");
        }
    });
    Ok(sender)
}

/// A backend's response body that gives its connection back once read to the end.
struct Returning {
    body: Incoming,
    sender: Option<Sender>,
    addr: SocketAddr,
    idle: Idle,
}

impl Returning {
    fn give_back(&mut self) {
        let Some(sender) = self.sender.take() else {
            return;
        };
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let list = idle.entry(self.addr).or_default();
        list.retain(|s| !s.is_closed());
        if list.len() < MAX_IDLE_PER_BACKEND {
            list.push(sender);
        }
    }
}

impl Body for Returning {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.give_back();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Returning {
    fn drop(&mut self) {
        // A body known to be complete (e.g. empty) may never be polled; its connection is
        // still good. One dropped half-read is not: it closes with its sender.
        if self.body.is_end_stream() {
            self.give_back();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A backend on 127.0.0.1:0 answering `ok` to every request; with `close_after_each`, it
    /// closes each connection after one answer (as a server whose idle timeout ran out would).
    /// Counts the connections it accepted.
    async fn backend(close_after_each: bool) -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    loop {
                        let Ok(n) = stream.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            buf.drain(..end + 4);
                            let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                            if stream.write_all(reply).await.is_err() || close_after_each {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (addr, accepted)
    }

    fn get() -> Request<ProxyBody> {
        let mut req = Request::new(super::super::proxy::empty());
        *req.uri_mut() = http::Uri::from_static("/");
        req
    }

    async fn body_of(resp: Response<ProxyBody>) -> Bytes {
        resp.into_body().collect().await.unwrap().to_bytes()
    }

    #[tokio::test]
    async fn a_connection_read_to_the_end_is_reused() {
        let (addr, accepted) = backend(false).await;
        let pool = BackendPool::default();
        for _ in 0..3 {
            let resp = pool.send(addr, get()).await.unwrap();
            assert_eq!(body_of(resp).await, "ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_connection_the_backend_closed_while_idle_is_replaced() {
        let (addr, accepted) = backend(true).await;
        let pool = BackendPool::default();
        for _ in 0..3 {
            let resp = pool.send(addr, get()).await.unwrap();
            assert_eq!(body_of(resp).await, "ok");
            // Let the close reach us, so the pooled connection is stale when next taken.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_response_dropped_unread_closes_its_connection() {
        let (addr, accepted) = backend(false).await;
        let pool = BackendPool::default();
        drop(pool.send(addr, get()).await.unwrap());
        let resp = pool.send(addr, get()).await.unwrap();
        assert_eq!(body_of(resp).await, "ok");
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_unreachable_backend_gives_the_request_back() {
        // Bound and closed at once: nothing listens there.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let mut req = get();
        req.headers_mut()
            .insert("x-kept", http::HeaderValue::from_static("1"));
        match BackendPool::default().send(addr, req).await {
            Err(SendError::Connect(_, back)) => assert_eq!(back.headers()["x-kept"], "1"),
            other => panic!("expected a connect error, got {other:?}"),
        }
    }
}

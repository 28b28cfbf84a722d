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
    /// The backend could not be reached (nothing was sent): another backend may take it.
    Connect(std::io::Error),
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
        let mut sender = connect(addr).await.map_err(SendError::Connect)?;
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

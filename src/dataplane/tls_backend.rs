//! HTTPS to a socket backend (Classic `InstanceProtocol` HTTPS, an ALB `HTTPS` target group):
//! the request goes over a TLS connection the load balancer opens to the backend with the
//! resolver's configuration ([`crate::lb::backend_tls`]: any certificate accepted, or Classic's
//! pinned public keys), HTTP/1.1 inside.
//!
//! Each request opens its own connection (the plain-HTTP [`super::pool`] keeps connections
//! alive; TLS back ends trade that for a simpler path: a full handshake per request). The
//! outcomes map onto the pool's: a backend that cannot be reached is [`SendError::Connect`]
//! (the request may go to the next one); one whose handshake fails (a plain HTTP server, a
//! certificate back-end authentication refuses) is [`SendError::Exchange`], the load
//! balancer's 502; silence past the idle timeout, [`SendError::IdleTimeout`].

use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Body;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::client_body::BodyError;
use super::pool::{Outgoing, SendError};
use super::proxy::{BoxError, ProxyBody};
use crate::lb::BackendTls;

/// Send a request to `addr` over TLS, with its body when it has one; the response body
/// streams from the connection as it is read.
pub async fn send<B>(
    addr: SocketAddr,
    config: BackendTls,
    out: &Outgoing<'_>,
    body: Option<B>,
) -> Result<Response<ProxyBody>, SendError>
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<BoxError>,
{
    let stream = TcpStream::connect(addr).await.map_err(SendError::Connect)?;
    let _ = stream.set_nodelay(true); // best effort: small exchanges go out at once
    let limit = out.idle_timeout.unwrap_or(std::time::Duration::MAX);
    let handshake = crate::lb::backend_tls::handshake(stream, addr.ip(), config);
    let tls = match tokio::time::timeout(limit, handshake).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(err)) => {
            return Err(SendError::Exchange(
                format!("TLS to the backend: {err}").into(),
            ));
        }
        Err(_) => return Err(SendError::IdleTimeout),
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| SendError::Exchange(e.into()))?;
    tokio::spawn(async move {
        if let Err(err) = conn.await {
            tracing::debug!(error = %err, "TLS backend connection ended with an error");
        }
    });
    let body = match body {
        Some(b) => b.map_err(Into::into).boxed_unsync(),
        None => http_body_util::Empty::<Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync(),
    };
    let mut req = Request::new(body);
    *req.method_mut() = out.method.clone();
    *req.uri_mut() = out
        .target
        .parse()
        .map_err(|e: http::uri::InvalidUri| SendError::Exchange(e.into()))?;
    *req.headers_mut() = out.headers.clone();
    let sent = sender.send_request(req);
    let resp = match tokio::time::timeout(limit, sent).await {
        Err(_) => return Err(SendError::IdleTimeout),
        Ok(Ok(resp)) => resp,
        Ok(Err(err)) => return Err(failure(err)),
    };
    Ok(resp.map(|b| b.map_err(Into::into).boxed()))
}

/// What a failed exchange was: the client's body breaking off, the backend closing early, or
/// anything else.
fn failure(err: hyper::Error) -> SendError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&err);
    while let Some(e) = source {
        if let Some(body) = e.downcast_ref::<BodyError>() {
            return SendError::ClientBody(match body {
                BodyError::TimedOut => Box::new(BodyError::TimedOut),
                BodyError::Malformed(_) => err.into(),
            });
        }
        source = e.source();
    }
    if err.is_incomplete_message() || err.is_canceled() {
        return SendError::Closed(std::io::Error::other(err));
    }
    SendError::Exchange(err.into())
}

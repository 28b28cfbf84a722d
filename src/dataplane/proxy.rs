//! The HTTP/1.1 proxy: find the load balancer the Host names, ask its kind where the request
//! goes ([`super::resolve`]), then answer or forward.
//!
//! Socket backends get the request streamed over a pooled keep-alive connection
//! ([`super::pool`]), or over TLS when the back end is HTTPS ([`super::tls_backend`]); in-process (simulated) instances get it through their responder.
//! Hop-by-hop headers are dropped both ways; `X-Forwarded-For` (appended to),
//! `X-Forwarded-Proto` and `X-Forwarded-Port` are set. Load-balancer-made errors are Classic
//! ELB's (empty body, `Content-Length: 0`, its status texts) or ALB's HTML pages: a backend
//! that cannot be reached is Classic's 503 and ALB's 502; one that closes the connection
//! without answering, Classic's 504 and ALB's 502; one silent past the idle timeout, a 504.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, Limited};
use hyper::body::{Body, Incoming};

use super::client::ClientConn;
use super::client_body::BodyError;
use super::headers::{backend_headers, strip_hop_by_hop};
use super::pool::{Outgoing, SendError};
use super::{Decision, Forward, LbKind, Outcome, RequestInfo, Route};
use crate::backend::{HttpAddress, HttpRequest};
use crate::lb::alb_error_page;
use crate::state::AppState;

/// Why a body could not be streamed to its end.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Response body: streamed from a backend, or buffered.
pub type ProxyBody = BoxBody<Bytes, BoxError>;

/// A buffered body.
pub fn full(body: impl Into<Bytes>) -> ProxyBody {
    Full::new(body.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub(super) fn empty() -> ProxyBody {
    Empty::new().map_err(|never| match never {}).boxed()
}

/// An empty load-balancer answer with a status and, optionally, Classic ELB's reason phrase.
fn lb_error(status: u16, reason: Option<&'static [u8]>) -> Response<ProxyBody> {
    let mut resp = Response::new(empty());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    if let Some(reason) = reason {
        resp.extensions_mut()
            .insert(hyper::ext::ReasonPhrase::from_static(reason));
    }
    resp
}

/// The load balancer's own answer when a backend gave none: Classic's empty one with its
/// status text (`504 GATEWAY_TIMEOUT` for a backend that timed out or closed the connection),
/// ALB's error page (`502 Bad Gateway`, `504 Gateway Time-out`).
fn backend_failed(kind: LbKind, status: u16) -> (Response<ProxyBody>, Outcome) {
    match (kind, status) {
        (LbKind::Classic, 504) => (lb_error(504, Some(b"GATEWAY_TIMEOUT")), lb_outcome(504)),
        (LbKind::Classic, _) => (lb_error(status, None), lb_outcome(status)),
        (LbKind::Application, _) => {
            let text: &'static str = if status == 504 {
                "Gateway Time-out"
            } else {
                "Bad Gateway"
            };
            let (mut resp, outcome) = answer(alb_error_page(status, text));
            resp.extensions_mut()
                .insert(hyper::ext::ReasonPhrase::from_static(text.as_bytes()));
            (resp, outcome)
        }
    }
}

/// Serve one data-plane request. `listener_port` is set when it arrived on a listener port;
/// a Host that names no load balancer then goes to the only one on that port.
pub async fn handle(
    state: Arc<AppState>,
    req: Request<Incoming>,
    conn: Arc<ClientConn>,
) -> Response<ProxyBody> {
    let (peer, listener_port) = (conn.peer, conn.listener_port);
    let (parts, body) = req.into_parts();
    let host = host_of(&parts.headers, &parts.uri).unwrap_or_default();
    let entry = state.dataplane.index.lookup(host);
    // Looked for only when the Host names none.
    let fallback = match (&entry, listener_port) {
        (None, Some(port)) => super::listeners::only_lb_on(&state, port),
        _ => None,
    };
    let Some(lb) = entry.as_ref().map(|e| &e.lb).or(fallback.as_ref()) else {
        let mut resp = Response::new(full(format!(
            "No load balancer answers to Host {host:?}.\n"
        )));
        *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        return resp;
    };
    let info = RequestInfo {
        method: &parts.method,
        path: parts.uri.path(),
        query: parts.uri.query(),
        host,
        headers: &parts.headers,
        client: peer,
        listener_port,
    };
    // Neither kind proxies tunnels: Classic answers CONNECT 400 (ts-elb-error-message), ALB
    // a malformed request 400 and TRACE 405 (load-balancer-troubleshooting). The connection
    // is closed after: what follows a CONNECT is not HTTP.
    if parts.method == http::Method::CONNECT {
        return closing(refused(lb.kind, 400));
    }
    if parts.method == http::Method::TRACE && lb.kind == LbKind::Application {
        return closing(refused(lb.kind, 405));
    }
    let Decision { route, on_complete } = super::resolve(&state, lb, &info);
    let idle = match &route {
        Route::Forward(fwd) => fwd.idle_timeout,
        _ => None,
    }
    .or_else(|| super::idle_timeout(&state, lb));
    // A client silent mid-body gets the smaller of `--body-read-timeout` and the idle timeout.
    let body_idle =
        Duration::from_secs_f64(state.config.body_read_timeout).min(idle.unwrap_or(Duration::MAX));
    let (resp, outcome) = match route {
        Route::Forward(fwd) => {
            let client = Client {
                conn: &conn,
                kind: lb.kind,
                body_idle,
            };
            forward(&state, fwd, parts, body, client).await
        }
        other => answer(other),
    };
    if let Some(done) = on_complete {
        done(&outcome);
    }
    // The client side of the connection honours the load balancer's idle timeout too.
    if let Some(idle) = idle {
        conn.set_idle_timeout(idle);
    }
    resp
}

/// The load balancer's own refusal of a request it will not forward: Classic's empty one
/// with its status text, ALB's error page.
pub fn refused(kind: LbKind, status: u16) -> Response<ProxyBody> {
    let (classic, alb): (&'static [u8], &'static str) = match status {
        405 => (b"METHOD_NOT_ALLOWED", "Method Not Allowed"),
        // ALB's page for the client's idle timeout; Classic's text in the style of its others
        // (the guide's heading is "HTTP 408: Request timeout", its wire text unobserved).
        408 => (b"REQUEST_TIMEOUT", "Request Time-out"),
        505 => (b"HTTP_VERSION_NOT_SUPPORTED", "HTTP Version Not Supported"),
        _ => (b"BAD_REQUEST", "Bad Request"),
    };
    match kind {
        LbKind::Classic => lb_error(status, Some(classic)),
        LbKind::Application => {
            let (mut resp, _) = answer(alb_error_page(status, alb));
            resp.extensions_mut()
                .insert(hyper::ext::ReasonPhrase::from_static(alb.as_bytes()));
            resp
        }
    }
}

/// `resp` with `Connection: close`: the connection cannot carry another request.
fn closing(mut resp: Response<ProxyBody>) -> Response<ProxyBody> {
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// The load balancer's own answer for a route that forwards nothing (a forward, which
/// [`handle`] never passes here, would get the no-healthy-backend answer).
fn answer(route: Route) -> (Response<ProxyBody>, Outcome) {
    match route {
        Route::Forward(_) | Route::NoHealthy => (
            lb_error(
                503,
                Some(b"Service Unavailable: Back-end server is at capacity"),
            ),
            lb_outcome(503),
        ),
        Route::Redirect { status, location } => {
            let mut resp = lb_error(status, None);
            if let Ok(v) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            (resp, lb_outcome(status))
        }
        Route::Fixed {
            status,
            content_type,
            body,
            headers,
        } => {
            let mut resp = Response::new(full(body));
            *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let h = resp.headers_mut();
            if let Some(v) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
                h.insert(header::CONTENT_TYPE, v);
            }
            for (name, value) in headers {
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(&value),
                ) {
                    h.append(n, v);
                }
            }
            (resp, lb_outcome(status))
        }
    }
}

fn lb_outcome(status: u16) -> Outcome {
    Outcome {
        served_by: None,
        status,
        from_backend: false,
        latency: 0.0,
    }
}

/// The Host a request names: the header, else the authority of an absolute-form target.
pub fn request_host<B>(req: &Request<B>) -> Option<&str> {
    host_of(req.headers(), req.uri())
}

fn host_of<'a>(headers: &'a HeaderMap, uri: &'a http::Uri) -> Option<&'a str> {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(http::uri::Authority::as_str))
}

fn add_cookies(resp: &mut Response<ProxyBody>, fwd: &Forward, served: usize) {
    for cookie in &fwd.set_cookies {
        if let Ok(v) = HeaderValue::from_str(cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    let Some(sticky) = &fwd.sticky else {
        return;
    };
    for cookie in sticky.cookies_for(&fwd.backends, served, resp.headers()) {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// Why a backend gave no answer.
#[derive(Debug, Clone, Copy)]
enum NoAnswer {
    /// It could not be reached; nothing was sent.
    Unreachable,
    /// It closed (or reset) the connection without answering.
    Closed,
    /// Anything else: a malformed answer, a request body that could not be read.
    Broken,
    /// The client stopped sending its body (the load balancer's 408).
    ClientSilent,
}

/// The client side of a forwarded request.
struct Client<'a> {
    conn: &'a ClientConn,
    kind: LbKind,
    /// How long the client may send no byte of its body.
    body_idle: Duration,
}

/// The load balancer's answer to a request body it could not read: 408 for a client that
/// went silent, 400 for a malformed one; the connection closes either way.
fn body_refused(
    kind: LbKind,
    err: &(dyn std::error::Error + 'static),
) -> (Response<ProxyBody>, Outcome) {
    tracing::debug!(error = %err, "request body not read");
    let status = if BodyError::is_timeout(err) { 408 } else { 400 };
    (closing(refused(kind, status)), lb_outcome(status))
}

async fn forward(
    state: &AppState,
    fwd: Forward,
    mut parts: http::request::Parts,
    body: Incoming,
    client: Client<'_>,
) -> (Response<ProxyBody>, Outcome) {
    let Client {
        conn,
        kind,
        body_idle,
    } = client;
    // Nothing reaches a backend before the body (up to the read-ahead) is known to be whole.
    let body = match super::client_body::read_ahead(body, body_idle).await {
        Ok(body) => body,
        Err(err) => return body_refused(kind, &err),
    };
    let forwarded = backend_headers(&mut parts.headers, &fwd, conn.forwarded_for());
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    // A request without a body can be retried on the next backend when one cannot be reached.
    let retryable = body.is_end_stream() || body.size_hint().exact() == Some(0);
    let mut body = Some(body);
    for (index, backend) in fwd.backends.iter().enumerate() {
        let last = index + 1 == fwd.backends.len() || !retryable;
        let this_body = if retryable { None } else { body.take() };
        let started = Instant::now();
        let result = match &backend.address {
            // Boxed, as the TLS exchange below: their futures would make every request's
            // larger, and it is moved whole (copied) several times per request.
            HttpAddress::InProcess(responder) => {
                Box::pin(in_process(
                    state,
                    responder,
                    &parts.method,
                    path_and_query,
                    this_body,
                ))
                .await
            }
            HttpAddress::Socket(addr) => {
                // What a backend gets on the request line: origin form (an absolute-form
                // target loses its authority).
                let out = Outgoing {
                    method: &parts.method,
                    target: path_and_query,
                    headers: &parts.headers,
                    extra: &forwarded,
                    idle_timeout: fwd.idle_timeout,
                };
                let sent = match &fwd.backend_tls {
                    Some(tls) => {
                        Box::pin(super::tls_backend::send(
                            *addr,
                            tls.clone(),
                            &out,
                            this_body,
                        ))
                        .await
                    }
                    None => state.dataplane.pool.send(*addr, &out, this_body).await,
                };
                match sent {
                    Ok(mut resp) => {
                        strip_hop_by_hop(resp.headers_mut());
                        Ok(resp)
                    }
                    // Never sent: the next backend may take it.
                    Err(SendError::Connect(_)) => Err(NoAnswer::Unreachable),
                    // Sent, and no answer within the idle timeout: the request is not retried.
                    Err(SendError::IdleTimeout) => {
                        tracing::debug!(instance = backend.instance_id, "backend idle timeout");
                        return backend_failed(kind, 504);
                    }
                    Err(SendError::Closed(e)) => {
                        tracing::debug!(error = %e, "backend closed the connection");
                        Err(NoAnswer::Closed)
                    }
                    Err(SendError::Exchange(e)) => {
                        tracing::debug!(error = %e, "backend exchange failed");
                        Err(NoAnswer::Broken)
                    }
                    // Past the read-ahead: the backend connection was abandoned mid-body.
                    Err(SendError::ClientBody(e)) => return body_refused(kind, &*e),
                }
            }
        };
        match result {
            Ok(mut resp) => {
                let latency = started.elapsed().as_secs_f64();
                add_cookies(&mut resp, &fwd, index);
                let status = resp.status().as_u16();
                return (
                    resp,
                    Outcome {
                        served_by: Some(index),
                        status,
                        from_backend: true,
                        latency,
                    },
                );
            }
            // Could not connect: the next backend, when the request can be sent again.
            Err(NoAnswer::Unreachable) if !last => continue,
            Err(NoAnswer::ClientSilent) => return body_refused(kind, &BodyError::TimedOut),
            Err(why) => {
                tracing::debug!(instance = backend.instance_id, ?why, "backend failed");
                // Classic: an unreachable instance is a 503, "registered instances closing
                // the connection" a 504; ALB answers 502 for a refused, reset or closed
                // connection.
                let status = match (why, kind) {
                    (NoAnswer::Unreachable, LbKind::Classic) => 503,
                    (NoAnswer::Closed, LbKind::Classic) => 504,
                    _ => 502,
                };
                return backend_failed(kind, status);
            }
        }
    }
    (
        lb_error(
            503,
            Some(b"Service Unavailable: Back-end server is at capacity"),
        ),
        lb_outcome(503),
    )
}

/// Hand the request to an in-process responder (the body is read, bounded, and dropped: the
/// simulated instance answers by path only).
async fn in_process(
    state: &AppState,
    responder: &crate::backend::Responder,
    method: &http::Method,
    path_and_query: &str,
    body: Option<super::client_body::ClientBody>,
) -> Result<Response<ProxyBody>, NoAnswer> {
    if let Some(body) = body
        && let Err(err) = Limited::new(body, state.config.max_body_bytes)
            .collect()
            .await
    {
        return Err(if BodyError::is_timeout(&*err) {
            NoAnswer::ClientSilent
        } else {
            NoAnswer::Broken
        });
    }
    let reply = responder(&HttpRequest {
        method: method.as_str().to_owned(),
        path: path_and_query.to_owned(),
    });
    let mut resp = Response::new(full(reply.body));
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_GATEWAY);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(reply.content_type),
    );
    Ok(resp)
}

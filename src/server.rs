//! The HTTP server: one port for every AWS protocol and the admin API.
//!
//! Per request: read the body (bounded), gunzip it, route it, work out account and region
//! (verifying the signature when asked), decode, dispatch, render, log one line.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::protocol::model::Operation;
use crate::protocol::models::ServiceDef;
use crate::protocol::render::{self, Rendered};
use crate::protocol::{Protocol, sigv4_request};
use crate::router::{self, ApiRoute, RequestHead, Route};
use crate::state::AppState;
use crate::{admin, dataplane, services};

pub mod auth;
mod body;
pub(crate) mod conns;
pub mod lanes;
pub(crate) mod refuse;
pub(crate) mod regions;

pub(crate) use body::decompress;
use body::{body_error, body_limit};

/// The largest request head (request line and headers) accepted; hyper answers a larger one
/// with 431. AWS's front ends refuse heads past a few tens of KiB too.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How long requests in progress get to finish after shutdown starts.
const DRAIN: Duration = Duration::from_secs(5);

/// Serve on `listener` until `shutdown` resolves, then drain: requests in progress get their
/// answers (keep-alive connections close after theirs), and connections that arrive meanwhile
/// get a prompt 503 instead of waiting in the backlog to be reset when the process exits.
/// Accepted connections are served on the connection threads ([`lanes`]), each whole on one.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    // Declared before the connections: dropped after them.
    let lanes = lanes::Lanes::start(state.config.connection_threads)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let tracker = conns::Tracker::new(conns::Limits::from_config(&state.config));
    let sweeper = tokio::spawn({
        let tracker = tracker.clone();
        async move {
            loop {
                tokio::time::sleep(tracker.sweep_every()).await;
                let closed = tracker.sweep();
                if closed > 0 {
                    tracing::debug!(
                        closed,
                        "closed connections past the header-read or idle timeout"
                    );
                }
            }
        }
    });
    let mut connections = JoinSet::new();
    let mut refusals = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let Some((stream, peer)) = accepted_or_wait(accepted).await else { continue };
                match tracker.admit() {
                    conns::Admission::Serve(held) => {
                        // Registered again with the lane's own event loop, in `connection`.
                        let Ok(stream) = stream.into_std() else { continue };
                        let served = connection(stream, peer, state.clone(), held, stop_rx.clone());
                        connections.spawn_on(served, &lanes.next());
                    }
                    conns::Admission::Refuse => {
                        refusals.spawn(refuse::refuse(stream, refuse::Why::Busy));
                    }
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            Some(_) = refusals.join_next(), if !refusals.is_empty() => {}
        }
    }
    tracing::info!(
        open_connections = connections.len(),
        "shutting down: finishing requests in progress, refusing new connections"
    );
    // Receivers may all be gone already; nothing to tell then.
    let _ = stop_tx.send(true);
    // Nothing to answer on these: close them now rather than at the drain limit.
    tracker.close_waiting();
    let deadline = tokio::time::sleep(DRAIN);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => {
                tracing::warn!(open_connections = connections.len(), "drain limit reached; closing the rest");
                connections.abort_all();
                break;
            }
            joined = connections.join_next() => if joined.is_none() { break },
            accepted = listener.accept() => {
                if let Some((stream, _)) = accepted_or_wait(accepted).await {
                    refusals.spawn(refuse::refuse(stream, refuse::Why::ShuttingDown));
                }
            }
            Some(_) = refusals.join_next(), if !refusals.is_empty() => {}
        }
    }
    // Refusals end on their own within seconds; the listener closes when this returns.
    while refusals.join_next().await.is_some() {}
    sweeper.abort();
    Ok(())
}

/// The accepted connection, or `None` after a short pause when accepting failed (out of file
/// descriptors and the like: waiting lets connections close).
async fn accepted_or_wait(
    accepted: std::io::Result<(tokio::net::TcpStream, SocketAddr)>,
) -> Option<(tokio::net::TcpStream, SocketAddr)> {
    match accepted {
        Ok(a) => Some(a),
        Err(err) => {
            tracing::warn!(error = %err, "accept failed");
            tokio::time::sleep(Duration::from_millis(50)).await;
            None
        }
    }
}

/// Serve one accepted connection (non-blocking) on the runtime this runs on.
async fn connection(
    stream: std::net::TcpStream,
    peer: SocketAddr,
    state: Arc<AppState>,
    held: conns::Held,
    stop: watch::Receiver<bool>,
) {
    let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
        return;
    };
    let client = dataplane::ClientConn::new(peer, None, held.slot.clone());
    let handler = move |req: Request<Incoming>| {
        let state = state.clone();
        let client = client.clone();
        async move {
            // A Host naming a load balancer (`*.elb.localhost`) is data-plane traffic.
            let for_lb = dataplane::proxy::request_host(&req).is_some_and(dataplane::is_lb_host);
            if for_lb {
                dataplane::proxy::handle(state, req, client).await
            } else if let Some(resp) = admin::console::handle(&state, &req) {
                resp
            } else {
                // Boxed: this future is far larger than the proxy's, and this block's future
                // (moved whole into hyper for every request) would otherwise be as large.
                Box::pin(handle(state, req, peer))
                    .await
                    .map(|b| b.map_err(|never| match never {}).boxed())
            }
        }
    };
    serve_connection(stream, held, Some(stop), h2_refusal, handler).await;
}

/// The main port's answer to HTTP/2 with prior knowledge (no load balancer is known before a
/// request names one): 505, as ALB answers an HTTP/2 request on an HTTP/1 connection.
fn h2_refusal() -> Vec<u8> {
    let body = "Updraft serves HTTP/1.1 on this port (HTTP/2 without TLS is not supported).\n";
    format!(
        "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Serve HTTP/1.1 with keep-alive on one accepted connection, within the limits its slot
/// (`held`) tracks: it is closed when the tracker says so (timeouts, room for a newer
/// connection), and after its current answer once `stop` turns true. A client that opens
/// with HTTP/2's preface gets `h2_answer()` and a close. Shared by the main port and the load
/// balancers' listener ports.
pub(crate) async fn serve_connection<F, Fut>(
    stream: tokio::net::TcpStream,
    held: conns::Held,
    stop: Option<watch::Receiver<bool>>,
    h2_answer: impl FnOnce() -> Vec<u8>,
    handler: F,
) where
    F: Fn(Request<Incoming>) -> Fut + Send + 'static,
    Fut: Future<Output = Response<dataplane::proxy::ProxyBody>> + Send + 'static,
{
    // Small request/response pairs: don't let Nagle delay them.
    let _ = stream.set_nodelay(true); // best effort; the connection works either way
    // The wait for a close ends with this block: the slot's `Notify` wakes one waiter, and a
    // forgotten waiter here would take the close meant for `serve_io`'s.
    let h2 = {
        let watched = held.slot.clone();
        let closed = watched.closed();
        tokio::pin!(closed);
        tokio::select! {
            h2 = conns::h2_prior_knowledge(&stream) => h2,
            () = closed.as_mut() => return,
        }
    };
    if h2 {
        conns::answer_and_close(stream, &h2_answer()).await;
        return;
    }
    let io = conns::Counted::new(stream, held.slot.clone(), held.tracker.clone());
    serve_io(io, held, stop, handler).await;
}

/// Serve HTTP/1.1 on an established byte stream (a counted TCP stream, or TLS over one: the
/// HTTPS listeners) within the limits its slot (`held`) tracks, as [`serve_connection`].
pub(crate) async fn serve_io<I, F, Fut>(
    io: I,
    held: conns::Held,
    stop: Option<watch::Receiver<bool>>,
    handler: F,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    F: Fn(Request<Incoming>) -> Fut + Send + 'static,
    Fut: Future<Output = Response<dataplane::proxy::ProxyBody>> + Send + 'static,
{
    let closed = held.slot.clone();
    let closed = closed.closed();
    tokio::pin!(closed);
    let (slot, tracker) = (held.slot.clone(), held.tracker.clone());
    let io = TokioIo::new(io);
    let service = service_fn(move |req: Request<Incoming>| {
        let in_progress = tracker.begin(&slot);
        let answer = handler(req);
        async move {
            let resp = answer.await;
            Ok::<_, Infallible>(resp.map(|b| conns::Tracked::new(b, in_progress)))
        }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .max_header_size(MAX_HEAD_BYTES)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let stopping = async move {
        match stop {
            Some(mut stop) => {
                // A dropped sender means the server is going away: stop too.
                let _ = stop.wait_for(|stopped| *stopped).await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        res = conn.as_mut() => if let Err(err) = res { tracing::debug!(error = %err, "connection ended with an error") },
        // Past a limit (see `conns`): dropping the connection closes it.
        () = closed.as_mut() => {}
        () = stopping => {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                res = conn => if let Err(err) = res {
                    tracing::debug!(error = %err, "connection ended with an error during shutdown");
                },
                () = closed => {}
            }
        }
    }
    drop(held);
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The protocol to answer in before routing has decided (e.g. an oversize body).
fn protocol_hint(headers: &HeaderMap) -> Protocol {
    if headers.contains_key("smithy-protocol") {
        Protocol::Cbor
    } else if headers.contains_key("x-amz-target") {
        Protocol::Json
    } else {
        Protocol::Query
    }
}

async fn handle(
    state: Arc<AppState>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let request_id = state.ids.request_id();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();

    let body_timeout = Duration::from_secs_f64(state.config.body_read_timeout);
    let limit = body_limit(&state, &parts);
    let raw = match conns::read_body(body, limit, body_timeout).await {
        Ok(raw) => raw,
        Err(err) => {
            let error = body_error(err, limit);
            tracing::info!(request_id, peer = %peer, status = error.status, error = %error.code, "request rejected");
            let mut resp = finish(
                render::error(
                    None,
                    protocol_hint(&parts.headers),
                    &error,
                    &request_id,
                    false,
                ),
                &request_id,
            );
            // The rest of the body may still be on its way: this connection ends here
            // (hyper would close it anyway, with the body unread).
            resp.headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            return resp;
        }
    };

    if let Some(resp) = admin::handle(
        &state,
        &parts.method,
        &path,
        parts.uri.query(),
        &parts.headers,
        &raw,
    ) {
        return resp;
    }

    let body = match decompress(&parts.headers, &raw, state.config.max_body_bytes) {
        Ok(body) => body,
        Err(error) => {
            return finish(
                render::error(
                    None,
                    protocol_hint(&parts.headers),
                    &error,
                    &request_id,
                    false,
                ),
                &request_id,
            );
        }
    };

    let authorization = sigv4_request::authorization(&parts.headers, parts.uri.query());
    let auth = authorization.as_ref().and_then(|a| a.as_ref().ok());
    let head = RequestHead {
        method: &parts.method,
        path: &path,
        query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        signing_name: auth.map(|a| a.service.as_str()),
    };
    let query_mode =
        header(&parts.headers, "x-amzn-query-mode").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let route = match router::route(&head, &body) {
        Route::Api(route) => route,
        Route::Reject {
            protocol,
            service,
            error,
        } => {
            tracing::info!(request_id, service = service.map(|s| s.name), status = error.status, error = %error.code, "request rejected");
            return finish(
                render::error(service, protocol, &error, &request_id, query_mode),
                &request_id,
            );
        }
    };

    let access_key_id = auth.map(|a| a.access_key_id.clone());
    let scope = auth::scope_for(auth, &state.config, &state.keys);
    let ctx = RequestContext {
        request_id: request_id.clone(),
        scope,
        service: route.service.name,
        operation: route.operation.clone(),
        protocol: route.protocol,
        access_key_id,
    };
    let span = tracing::info_span!("request", request_id, service = ctx.service, operation = %ctx.operation,
        account = %ctx.scope.account, region = %ctx.scope.region);
    async {
        // Operations modelled as unsigned (AssumeRoleWithWebIdentity) need no signature.
        let unsigned_op = authorization.is_none()
            && route
                .service
                .operation(&route.operation)
                .is_some_and(|op| op.authtype.as_deref() == Some("none"));
        let verified = if state.config.verify_signatures && !unsigned_op {
            auth::verify(&state, &head, &raw, authorization.as_ref(), route.service)
        } else {
            Ok(())
        };
        let read = regions::is_read(&ctx.operation);
        let called = verified
            .and_then(|()| regions::known_region(&state.config, &ctx.scope.region))
            .and_then(|()| {
                // A read keeps nothing for an account or region that has no data yet.
                if read {
                    crate::state::scope::reading(|| call(&state, &ctx, &route, &body))
                } else {
                    call(&state, &ctx, &route, &body)
                }
            });
        let (rendered, error) = match called {
            Ok(rendered) => {
                // Writes are what the console's change stream announces.
                if !read {
                    state.events.changed(&state, ctx.service, &ctx.scope);
                    if state.config.classroom.roster.is_some() {
                        state.activity.record(&ctx.scope.account);
                    }
                }
                (rendered, None)
            }
            Err(err) => (
                render::error(
                    Some(route.service),
                    route.protocol,
                    &err,
                    &request_id,
                    query_mode,
                ),
                Some(err.code),
            ),
        };
        tracing::info!(
            protocol = route.protocol.as_str(),
            status = rendered.status,
            error = error.as_deref(),
            duration_us = started.elapsed().as_micros() as u64,
            "request"
        );
        finish(rendered, &request_id)
    }
    .instrument(span)
    .await
}

/// Decode, then [`respond`].
fn call(
    state: &AppState,
    ctx: &RequestContext,
    route: &ApiRoute,
    body: &[u8],
) -> Result<Rendered, ApiError> {
    let service: &ServiceDef = route.service;
    let Some(operation) = service.operation(&route.operation) else {
        return Err(ApiError::client(
            "InvalidAction",
            format!(
                "The action {} is not valid for this web service.",
                route.operation
            ),
        ));
    };
    let input = render::decode_input(service, route.protocol, operation, &route.form, body)
        .map_err(|e| service.decode_error(route.protocol, &e))?;
    respond(state, ctx, service, route.protocol, operation, input)
}

/// Run a decoded request and render its answer: straight into the protocol's sink when the
/// operation writes into one (typed and streaming handlers), else through its tree handler. A
/// panicking handler becomes `InternalFailure`, logged. (Public for the benchmarks, which
/// must measure what the server runs.)
pub fn respond(
    state: &AppState,
    ctx: &RequestContext,
    service: &ServiceDef,
    protocol: Protocol,
    operation: &Operation,
    input: serde_json::Value,
) -> Result<Rendered, ApiError> {
    if let Some(op) = services::sink_operation(ctx.service, &ctx.operation) {
        return guarded(|| {
            render::streamed_output(service, protocol, operation, &ctx.request_id, |sink| {
                op.write(ctx, state, input, sink)
            })
        });
    }
    let output = guarded(|| services::dispatch(ctx, state, input))?;
    Ok(render::output(
        service,
        protocol,
        operation,
        &output,
        &ctx.request_id,
    ))
}

/// `f`, with a panic turned into `InternalFailure` (logged).
fn guarded<T>(f: impl FnOnce() -> Result<T, ApiError>) -> Result<T, ApiError> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned());
        tracing::error!(panic = what.as_deref().unwrap_or("?"), "handler panicked");
        Err(ApiError::internal())
    })
}

fn finish(rendered: Rendered, request_id: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(rendered.body)));
    *resp.status_mut() =
        StatusCode::from_u16(rendered.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = resp.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(rendered.content_type),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    for (name, value) in rendered.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    resp
}

//! The HTTP server: one port for every AWS protocol and the admin API.
//!
//! Per request: read the body (bounded), gunzip it, route it, work out account and region
//! (verifying the signature when asked), decode, dispatch, render, log one line.

use std::convert::Infallible;
use std::io::Read;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::context::{RequestContext, account_for_access_key};
use crate::error::ApiError;
use crate::protocol::model::Operation;
use crate::protocol::models::ServiceDef;
use crate::protocol::render::{self, Rendered};
use crate::protocol::{Protocol, sigv4, sigv4_request};
use crate::router::{self, ApiRoute, RequestHead, Route};
use crate::state::{AppState, Scope};
use crate::{admin, dataplane, services};

/// How long open connections get to finish after shutdown starts.
const DRAIN: Duration = Duration::from_secs(5);

/// Serve on `listener` until `shutdown` resolves, then let open connections finish.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(err) => {
                        // Running out of file descriptors and the like: wait a little, go on.
                        tracing::warn!(error = %err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                connections.spawn(connection(stream, peer, state.clone(), stop_rx.clone()));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    tracing::info!(open_connections = connections.len(), "shutting down");
    // Receivers may all be gone already; nothing to tell then.
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
    }
    Ok(())
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    state: Arc<AppState>,
    mut stop: watch::Receiver<bool>,
) {
    // Small request/response pairs: don't let Nagle delay them.
    let _ = stream.set_nodelay(true); // best effort; the connection works either way
    let service = service_fn(move |req: Request<Incoming>| {
        let state = state.clone();
        async move {
            // A Host naming a load balancer (`*.elb.localhost`) is data-plane traffic.
            let for_lb = dataplane::proxy::request_host(&req).is_some_and(dataplane::is_lb_host);
            Ok::<_, Infallible>(if for_lb {
                dataplane::proxy::handle(state, req, peer, None, None).await
            } else if let Some(resp) = admin::console::handle(&state, &req) {
                resp
            } else {
                handle(state, req, peer)
                    .await
                    .map(|b| b.map_err(|never| match never {}).boxed())
            })
        }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        res = conn.as_mut() => if let Err(err) = res { tracing::debug!(error = %err, "connection ended with an error") },
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            if let Err(err) = conn.await {
                tracing::debug!(error = %err, "connection ended with an error during shutdown");
            }
        }
    }
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

    let raw = match Limited::new(body, state.config.max_body_bytes)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(err) => {
            let too_large = err
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            let error = if too_large {
                ApiError::client(
                    "RequestEntityTooLarge",
                    format!(
                        "Request body exceeds the limit of {} bytes.",
                        state.config.max_body_bytes
                    ),
                )
            } else {
                ApiError::client("MalformedInput", "The request body could not be read.")
            };
            tracing::info!(request_id, peer = %peer, status = error.status, error = %error.code, "request rejected");
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
    let scope = scope_for(auth, &state.config);
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
        let verified = if state.config.verify_signatures {
            verify(&state, &head, &raw, authorization.as_ref(), route.service)
        } else {
            Ok(())
        };
        let (rendered, error) = match verified.and_then(|()| call(&state, &ctx, &route, &body)) {
            Ok(rendered) => {
                if !admin::console::events::is_read(&ctx.operation) {
                    state.events.changed(&state, ctx.service, &ctx.scope);
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

/// Run a decoded request and render its answer: through the operation's streaming handler
/// when it has one and the protocol has a streaming codec, else through its tree handler. A
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
    let streaming = services::streaming_handler(ctx.service, &ctx.operation)
        .filter(|_| render::streams(protocol));
    if let Some(handler) = streaming {
        return guarded(|| {
            render::streamed_output(service, protocol, operation, &ctx.request_id, |sink| {
                handler(ctx, state, input, sink)
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

/// Account from the access key, region from the credential scope; defaults when unsigned.
fn scope_for(auth: Option<&sigv4::Authorization>, config: &crate::Config) -> Scope {
    Scope::new(
        account_for_access_key(
            auth.map(|a| a.access_key_id.as_str()),
            &config.default_account,
        ),
        auth.map_or_else(|| config.default_region.clone(), |a| a.region.clone()),
    )
}

fn verify(
    state: &AppState,
    head: &RequestHead<'_>,
    raw: &[u8],
    authorization: Option<&Result<sigv4::Authorization, sigv4::SigV4Error>>,
    service: &ServiceDef,
) -> Result<(), ApiError> {
    let auth = match authorization {
        None => {
            return Err(ApiError::client(
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            )
            .with_status(403));
        }
        Some(Err(err)) => return Err(ApiError::client("IncompleteSignature", err.to_string())),
        Some(Ok(auth)) => auth,
    };
    let Some(secret) = state.config.credentials.secret(&auth.access_key_id) else {
        return Err(ApiError::client(
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )
        .with_status(403));
    };
    // Real time, not the virtual clock: see `sigv4_request`.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    sigv4_request::verify(
        head.method.as_str(),
        head.path,
        head.query,
        head.headers,
        raw,
        auth,
        secret,
        service,
        now,
    )
}

/// Undo `Content-Encoding: gzip` (botocore compresses large PutMetricData bodies), bounded.
pub(crate) fn decompress(
    headers: &HeaderMap,
    raw: &Bytes,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let gzip = header(headers, "content-encoding")
        .is_some_and(|e| e.split(',').any(|p| p.trim().eq_ignore_ascii_case("gzip")));
    if !gzip {
        return Ok(raw.clone());
    }
    let mut out = Vec::new();
    let mut decoder = flate2::read::GzDecoder::new(&raw[..]).take(limit as u64 + 1);
    decoder.read_to_end(&mut out).map_err(|_| {
        ApiError::client("MalformedInput", "The request body is not valid gzip data.")
    })?;
    if out.len() > limit {
        return Err(ApiError::client(
            "RequestEntityTooLarge",
            format!("Request body exceeds the limit of {limit} bytes."),
        ));
    }
    Ok(Bytes::from(out))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_comes_from_the_credential_scope() {
        let config = crate::Config {
            default_region: "eu-west-1".into(),
            ..crate::Config::default()
        };
        let auth = sigv4::parse_authorization(
            "AWS4-HMAC-SHA256 Credential=123456789012/20261128/ap-northeast-2/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
        )
        .unwrap();
        assert_eq!(
            scope_for(Some(&auth), &config),
            Scope::new("123456789012", "ap-northeast-2")
        );
        assert_eq!(
            scope_for(None, &config),
            Scope::new("000000000000", "eu-west-1")
        );
    }
}

//! Entry points for the coverage-guided fuzz targets in `fuzz/` (not part of the API).
//!
//! Each function takes raw bytes, runs one layer of the request path the way the server
//! does, and returns nothing: a fuzz run fails only when one of them panics, overflows,
//! loops or allocates without bound. They live here, rather than in the fuzz crate, so that
//! private steps (gzip bounds, the decode that follows routing) are fuzzed as the server
//! runs them instead of as copies.
//!
//! Inputs are plain text where they can be, so that seed files are captured client
//! requests: a raw HTTP/1.1 request for [`request`] and [`sigv4`], and
//! `"<service> <Operation>\n<body>"` for the decoders and encoders.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::dataplane::h1::{self, Dechunked, ResponseFraming};
use crate::protocol::model::Operation;
use crate::protocol::models::{self, ServiceDef};
use crate::protocol::query::{FormFlavor, decode_form};
use crate::protocol::{Protocol, cbor, json, render, sigv4, sigv4_request, xml};
use crate::router::{self, Route};

/// Body limit used for gzip (the server's default is larger; small keeps runs fast).
const FUZZ_BODY_LIMIT: usize = 1 << 20;

/// A raw request, split as hyper would hand it to the server.
struct RawRequest {
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

/// Parse `data` as an HTTP/1.1 request; `None` for what hyper would refuse before routing.
fn parse_request(data: &[u8]) -> Option<RawRequest> {
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut slots);
    let httparse::Status::Complete(len) = req.parse(data).ok()? else {
        return None;
    };
    let method = Method::from_bytes(req.method?.as_bytes()).ok()?;
    let target = req.path?;
    let uri: http::Uri = target.parse().ok()?;
    let mut headers = HeaderMap::new();
    for h in req.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(h.value).ok()?;
        headers.append(name, value);
    }
    Some(RawRequest {
        method,
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        body: Bytes::copy_from_slice(&data[len..]),
    })
}

/// A whole API request as the server takes it: gzip, signature parsing, routing, then the
/// operation's decoder and the error renderer (no service is called: they need state).
pub fn request(data: &[u8]) {
    let Some(req) = parse_request(data) else {
        return;
    };
    let Ok(body) = crate::server::decompress(&req.headers, &req.body, FUZZ_BODY_LIMIT) else {
        return;
    };
    let authorization = sigv4_request::authorization(&req.headers, req.query.as_deref());
    let auth = authorization.as_ref().and_then(|a| a.as_ref().ok());
    let head = router::RequestHead {
        method: &req.method,
        path: &req.path,
        query: req.query.as_deref().unwrap_or(""),
        headers: &req.headers,
        signing_name: auth.map(|a| a.service.as_str()),
    };
    match router::route(&head, &body) {
        Route::Api(route) => {
            let Some(operation) = route.service.operation(&route.operation) else {
                return;
            };
            let decoded =
                render::decode_input(route.service, route.protocol, operation, &route.form, &body);
            if let Err(err) = decoded {
                let api = route.service.decode_error(route.protocol, &err);
                render::error(Some(route.service), route.protocol, &api, "fuzz", false);
            }
            if let Some(auth) = auth {
                let _ = sigv4_request::verify(
                    req.method.as_str(),
                    &req.path,
                    req.query.as_deref().unwrap_or(""),
                    &req.headers,
                    &req.body,
                    auth,
                    "fuzz-secret",
                    route.service,
                    request_epoch(&req.headers),
                );
            }
        }
        Route::Reject {
            protocol,
            service,
            error,
        } => {
            render::error(service, protocol, &error, "fuzz", true);
        }
    }
}

/// The request's own `X-Amz-Date` as "now", so that time checks pass and the rest runs.
fn request_epoch(headers: &HeaderMap) -> i64 {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    sigv4::request_date(headers)
        .ok()
        .and_then(|d| time::PrimitiveDateTime::parse(&d, format).ok())
        .map_or(1_765_000_000, |dt| dt.assume_utc().unix_timestamp())
}

/// SigV4 on a raw request: parse the `Authorization` header (or presigned query), and when
/// it can be verified at all, check that signing the request ourselves and verifying it
/// agree — canonicalisation must be deterministic for any input.
pub fn sigv4(data: &[u8]) {
    let Some(req) = parse_request(data) else {
        return;
    };
    let query = req.query.as_deref().unwrap_or("");
    sigv4::canonical_uri(&req.path);
    sigv4::canonical_query(query);
    let Some(Ok(mut auth)) = sigv4_request::authorization(&req.headers, req.query.as_deref())
    else {
        return;
    };
    let secret = "fuzz-secret";
    let method = req.method.as_str();
    let first = sigv4::verify(
        method,
        &req.path,
        query,
        &req.headers,
        &req.body,
        &auth,
        secret,
    );
    if let Some(service) = models::all()
        .iter()
        .find(|s| s.signing_name == auth.service)
    {
        let _ = sigv4_request::verify(
            method,
            &req.path,
            query,
            &req.headers,
            &req.body,
            &auth,
            secret,
            service,
            request_epoch(&req.headers),
        );
    }
    // Only header-signed requests whose date and payload hash parse get this far.
    let (Ok(amz_date), Ok(payload)) = (
        sigv4::request_date(&req.headers),
        sigv4::payload_hash(&req.headers, &req.body),
    ) else {
        return;
    };
    if first.is_err() && !matches!(first, Err(sigv4::SigV4Error::Mismatch)) {
        return;
    }
    let creq = sigv4::canonical_request(
        method,
        &req.path,
        query,
        &req.headers,
        &auth.signed_headers,
        &payload,
    );
    let sts = sigv4::string_to_sign(&amz_date, &auth.scope(), &creq);
    auth.signature = sigv4::signature(secret, &auth.date, &auth.region, &auth.service, &sts);
    let again = sigv4::verify(
        method,
        &req.path,
        query,
        &req.headers,
        &req.body,
        &auth,
        secret,
    );
    assert!(
        again.is_ok(),
        "a request signed here must verify: {again:?}"
    );
}

/// Gzip handling: any body with `Content-Encoding: gzip` either inflates within the limit or
/// is refused; the limit holds however much the data claims to inflate to.
pub fn gzip(data: &[u8]) {
    let mut headers = HeaderMap::new();
    headers.insert("content-encoding", HeaderValue::from_static("gzip"));
    let limit = 64 * 1024;
    if let Ok(body) = crate::server::decompress(&headers, &Bytes::copy_from_slice(data), limit) {
        assert!(body.len() <= limit, "inflated past the limit");
    }
}

/// The service and operation named on the first line (`"ec2 DescribeInstances"`), and the rest.
fn operation_and_body(data: &[u8]) -> Option<(&'static ServiceDef, &'static Operation, &[u8])> {
    let newline = data.iter().position(|b| *b == b'\n')?;
    let line = std::str::from_utf8(&data[..newline]).ok()?;
    let (service, operation) = line.trim().split_once(' ')?;
    let service = models::by_name(service)?;
    let operation = service.operation(operation)?;
    Some((service, operation, &data[newline + 1..]))
}

/// Form decoders (awsQuery and ec2Query): the body is an urlencoded form.
pub fn decode_query(data: &[u8]) {
    let Some((service, operation, body)) = operation_and_body(data) else {
        return;
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let flavor = if service.form_protocol == Protocol::Ec2 {
        FormFlavor::Ec2
    } else {
        FormFlavor::Query
    };
    if let Err(err) = decode_form(service.model(), operation.input.as_ref(), &params, flavor) {
        service.decode_error(service.form_protocol, &err);
    }
}

/// The awsJson decoder.
pub fn decode_json(data: &[u8]) {
    let Some((service, operation, body)) = operation_and_body(data) else {
        return;
    };
    if let Err(err) = json::decode_json(service.model(), operation.input.as_ref(), body) {
        service.decode_error(Protocol::Json, &err);
    }
}

/// The rpc-v2-cbor decoder.
pub fn decode_cbor(data: &[u8]) {
    let Some((service, operation, body)) = operation_and_body(data) else {
        return;
    };
    if let Err(err) = cbor::decode_cbor(service.model(), operation.input.as_ref(), body) {
        service.decode_error(Protocol::Cbor, &err);
    }
}

/// Every encoder on an arbitrary value (the rest of the input, read as JSON) for the
/// operation's output shape: values that do not fit their shapes must be skipped, not panic.
pub fn encode(data: &[u8]) {
    let Some((service, operation, body)) = operation_and_body(data) else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    let model = service.model();
    let output = operation.output.as_ref();
    json::encode_json(model, output, &value);
    let encoded = cbor::encode_cbor(model, output, &value);
    // What we encode as CBOR must at least be one well-formed CBOR map.
    assert!(
        encoded.first().is_some_and(|b| b >> 5 == 5),
        "not a CBOR map"
    );
    xml::encode_query_output(model, operation, &value, "fuzz");
    xml::encode_ec2_output(model, operation, &value, "fuzz");
}

/// The data plane's backend side: a response head, its framing, and a chunked body fed in
/// pieces of every size the input asks for.
pub fn h1_response(data: &[u8]) {
    let Some((&step, rest)) = data.split_first() else {
        return;
    };
    let step = usize::from(step).max(1);
    let mut buf = BytesMut::from(rest);
    let Ok(Some(head)) = h1::parse_response_head(&mut buf) else {
        return;
    };
    head.keeps_alive();
    let method = if step % 2 == 0 {
        Method::GET
    } else {
        Method::HEAD
    };
    let Ok(ResponseFraming::Chunked(mut dechunker)) = head.framing(&method) else {
        return;
    };
    let mut pending = BytesMut::new();
    let mut body = 0usize;
    for piece in buf.chunks(step) {
        pending.extend_from_slice(piece);
        loop {
            match dechunker.step(&mut pending) {
                Ok(Dechunked::Data(data)) => {
                    assert!(!data.is_empty(), "an empty data chunk would spin the proxy");
                    body += data.len();
                }
                Ok(Dechunked::NeedMore) => break,
                Ok(Dechunked::Done) => {
                    assert!(dechunker.is_done());
                    assert!(body <= rest.len(), "more body than input");
                    return;
                }
                Err(_) => return,
            }
        }
    }
}

/// A fuzz target: raw bytes in, a panic on failure.
pub type Target = fn(&[u8]);

/// Every target by name: the fuzz binary runs the one `FUZZ_TARGET` names (one binary for
/// all of them builds and links once, which is what makes the CI smoke affordable).
pub const TARGETS: &[(&str, Target)] = &[
    ("request", request),
    ("sigv4", sigv4),
    ("gzip", gzip),
    ("decode_query", decode_query),
    ("decode_json", decode_json),
    ("decode_cbor", decode_cbor),
    ("encode", encode),
    ("h1_response", h1_response),
];

//! The request body: how much of it to read, the answer when it cannot be read, and gunzip.

use std::io::Read;

use bytes::Bytes;
use http::HeaderMap;

use super::{conns, header};
use crate::admin;
use crate::error::ApiError;
use crate::state::AppState;

/// The largest body to read: `--max-body-bytes`, except for a snapshot load by a caller the
/// admin rules admit (snapshots are routinely larger than API calls).
pub(super) fn body_limit(state: &AppState, parts: &http::request::Parts) -> usize {
    let limit = state.config.max_body_bytes;
    let path = parts.uri.path().trim_end_matches('/');
    let snapshot = parts.method == http::Method::POST
        && path == admin::state::PATH
        && admin::auth::check(
            state.config.admin_token(),
            &parts.method,
            path,
            &parts.headers,
        )
        .is_ok();
    if snapshot {
        limit.max(admin::state::MAX_SNAPSHOT_BYTES)
    } else {
        limit
    }
}

/// The answer to a body that could not be read.
///
/// A body not finished within `--body-read-timeout` gets what S3, the AWS API that most often
/// waits on a request body, answers a client whose body stops short: 400 `RequestTimeout`
/// with its message, and the connection closed. Not a bare close: the SDKs treat the code
/// `RequestTimeout` as transient (botocore's standard retry mode, the JavaScript SDK's
/// `retryable`) and send the request again, where a close surfaces as a connection error
/// after the client's own read timeout. (The services here document no answer of their own.)
pub(super) fn body_error(err: conns::BodyError, limit: usize) -> ApiError {
    match err {
        conns::BodyError::TooLarge => ApiError::client(
            "RequestEntityTooLarge",
            format!("Request body exceeds the limit of {limit} bytes."),
        ),
        conns::BodyError::Unreadable => {
            ApiError::client("MalformedInput", "The request body could not be read.")
        }
        conns::BodyError::TimedOut => ApiError::client(
            "RequestTimeout",
            "Your socket connection to the server was not read from or written to within the \
             timeout period. Idle connections will be closed.",
        ),
    }
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

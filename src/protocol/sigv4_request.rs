//! What AWS checks around a SigV4 signature, for the query and JSON services Updraft speaks:
//!
//! - where the signature is: the `Authorization` header, or a presigned query string
//!   (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-SignedHeaders`,
//!   `X-Amz-Signature`; what botocore's `generate_presigned_url` sends);
//! - the credential scope names the service of the endpoint (`Credential should be scoped to
//!   correct service: 'ec2'. `);
//! - the request time is within 15 minutes of now, either way. EC2 answers `RequestExpired`
//!   (400, "Request has expired."); the other services `SignatureDoesNotMatch` (403, "Signature
//!   expired: … is now earlier than … (… - 15 min.)" or "Signature not yet current: … is still
//!   later than … (… + 15 min.)"). The clock is the *real* one, not the virtual clock: clients
//!   sign with their wall clock, and the virtual clock runs scaled or is advanced by tests, so
//!   it would refuse every signed request after a `--time-scale 60` minute;
//! - the body is what was signed: these services hash the body themselves, so a client that
//!   signed `UNSIGNED-PAYLOAD` (an S3 idiom) gets `SignatureDoesNotMatch`, whatever the body.
//!
//! A presigned request is held to the same 15 minutes from `X-Amz-Date`; like STS, the query
//! services do not extend it with `X-Amz-Expires` (which must still be a number of seconds
//! from 1 to 604800, as the signers produce).

use http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use time::macros::format_description;

use super::models::ServiceDef;
use super::sigv4::{
    self, Authorization, SigV4Error, UNSIGNED_PAYLOAD, canonical_request, signature, string_to_sign,
};
use crate::error::ApiError;

/// How far the request time may be from now, either way.
pub const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// The longest `X-Amz-Expires` a signer produces (seven days).
const MAX_EXPIRES: i64 = 604_800;

/// The request's signature: the `Authorization` header, else a presigned query string, else
/// `None` (unsigned).
pub fn authorization(
    headers: &HeaderMap,
    raw_query: Option<&str>,
) -> Option<Result<Authorization, SigV4Error>> {
    if let Some(value) = headers.get(http::header::AUTHORIZATION) {
        return Some(sigv4::parse_authorization(&String::from_utf8_lossy(
            value.as_bytes(),
        )));
    }
    let params = presigned_params(raw_query?)?;
    Some(parse_presigned(&params))
}

/// The `X-Amz-*` parameters of a query string, if it is presigned (has `X-Amz-Signature` or
/// `X-Amz-Algorithm`).
fn presigned_params(raw_query: &str) -> Option<Vec<(String, String)>> {
    let params: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes())
        .filter(|(k, _)| k.starts_with("X-Amz-"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    params
        .iter()
        .any(|(k, _)| k == "X-Amz-Signature" || k == "X-Amz-Algorithm")
        .then_some(params)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn parse_presigned(params: &[(String, String)]) -> Result<Authorization, SigV4Error> {
    let missing: Vec<&str> = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    ]
    .into_iter()
    .filter(|name| param(params, name).is_none_or(str::is_empty))
    .collect();
    if !missing.is_empty() {
        return Err(SigV4Error::Malformed(format!(
            "AWS query-string parameters must include {}. Re-examine the query-string parameters.",
            missing
                .iter()
                .map(|m| format!("'{m}'"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let algorithm = param(params, "X-Amz-Algorithm").unwrap_or_default();
    // The header parser checks the algorithm, the credential's shape and the header list.
    sigv4::parse_authorization(&format!(
        "{algorithm} Credential={}, SignedHeaders={}, Signature={}",
        param(params, "X-Amz-Credential").unwrap_or_default(),
        param(params, "X-Amz-SignedHeaders").unwrap_or_default(),
        param(params, "X-Amz-Signature").unwrap_or_default(),
    ))
}

/// Verify a signed request for `service` as AWS would at `now` (real epoch seconds):
/// scope, time, payload, then the signature itself. `raw_query` and `path` are as received.
#[allow(clippy::too_many_arguments)] // reason: one call site, each a distinct request part
pub fn verify(
    method: &str,
    path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    auth: &Authorization,
    secret: &str,
    service: &ServiceDef,
    now: i64,
) -> Result<(), ApiError> {
    let ec2 = service.name == "ec2";
    if auth.service != service.signing_name {
        return Err(mismatch(format!(
            "Credential should be scoped to correct service: '{}'. ",
            service.signing_name
        )));
    }
    let presigned = !headers.contains_key(http::header::AUTHORIZATION);
    if presigned {
        let params = presigned_params(raw_query).unwrap_or_default();
        let amz_date = param(&params, "X-Amz-Date").unwrap_or_default();
        let Some(signed_at) = parse_basic(amz_date) else {
            return Err(incomplete(format!(
                "Date must be in ISO-8601 'basic format'. Got '{amz_date}'."
            )));
        };
        if let Some(expires) = param(&params, "X-Amz-Expires")
            && !expires
                .parse::<i64>()
                .is_ok_and(|e| (1..=MAX_EXPIRES).contains(&e))
        {
            return Err(incomplete(format!(
                "X-Amz-Expires must be a number of seconds from 1 to {MAX_EXPIRES}. Got '{expires}'."
            )));
        }
        check_time(signed_at, now, ec2)?;
        return verify_presigned(
            method, path, raw_query, headers, body, auth, secret, amz_date,
        );
    }
    let amz_date = sigv4::request_date(headers).map_err(sigv4_error)?;
    if let Some(signed_at) = parse_basic(&amz_date) {
        check_time(signed_at, now, ec2)?;
    }
    // These services hash the body themselves; a signature over "UNSIGNED-PAYLOAD" cannot
    // match what they compute.
    let unsigned = headers
        .get("x-amz-content-sha256")
        .is_some_and(|v| v.as_bytes().trim_ascii() == UNSIGNED_PAYLOAD.as_bytes());
    if unsigned {
        return Err(sigv4_error(SigV4Error::Mismatch));
    }
    sigv4::verify(method, path, raw_query, headers, body, auth, secret).map_err(sigv4_error)
}

/// The presigned signature: every query parameter but `X-Amz-Signature` is signed, the date
/// is `X-Amz-Date`, the payload the hash of the body received.
#[allow(clippy::too_many_arguments)] // reason: the parts of one request
fn verify_presigned(
    method: &str,
    path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    auth: &Authorization,
    secret: &str,
    amz_date: &str,
) -> Result<(), ApiError> {
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if auth.date != amz_date.get(..8).unwrap_or_default() {
        return Err(sigv4_error(SigV4Error::DateMismatch {
            scope: auth.date.clone(),
            request: amz_date.get(..8).unwrap_or_default().to_owned(),
        }));
    }
    let unsigned_query: Vec<&str> = raw_query
        .split('&')
        .filter(|pair| {
            let key = pair.split_once('=').map_or(*pair, |(k, _)| k);
            key != "X-Amz-Signature"
        })
        .collect();
    let payload = hex::encode(Sha256::digest(body));
    let creq = canonical_request(
        method,
        path,
        &unsigned_query.join("&"),
        headers,
        &auth.signed_headers,
        &payload,
    );
    let sts = string_to_sign(amz_date, &auth.scope(), &creq);
    let expected = signature(secret, &auth.date, &auth.region, &auth.service, &sts);
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(())
    } else {
        Err(sigv4_error(SigV4Error::Mismatch))
    }
}

/// Refuse a request time more than [`MAX_SKEW_SECONDS`] from `now`.
fn check_time(signed_at: i64, now: i64, ec2: bool) -> Result<(), ApiError> {
    let late = signed_at < now - MAX_SKEW_SECONDS;
    let early = signed_at > now + MAX_SKEW_SECONDS;
    if !(late || early) {
        return Ok(());
    }
    if ec2 {
        return Err(ApiError::client("RequestExpired", "Request has expired."));
    }
    let message = if late {
        format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            format_basic(signed_at),
            format_basic(now - MAX_SKEW_SECONDS),
            format_basic(now)
        )
    } else {
        format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            format_basic(signed_at),
            format_basic(now + MAX_SKEW_SECONDS),
            format_basic(now)
        )
    };
    Err(mismatch(message))
}

/// `20261201T000000Z` → epoch seconds.
pub fn parse_basic(s: &str) -> Option<i64> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(s, format)
        .ok()
        .map(|dt| dt.assume_utc().unix_timestamp())
}

/// Epoch seconds → `20261201T000000Z`.
pub fn format_basic(epoch: i64) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|dt| dt.format(format).ok())
        .unwrap_or_default()
}

fn mismatch(message: impl Into<String>) -> ApiError {
    ApiError::client("SignatureDoesNotMatch", message).with_status(403)
}

fn incomplete(message: impl Into<String>) -> ApiError {
    ApiError::client("IncompleteSignature", message)
}

/// The AWS error for a verification failure.
pub fn sigv4_error(err: SigV4Error) -> ApiError {
    ApiError::client(err.aws_code(), err.to_string()).with_status(err.http_status())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_083_200; // 2026-12-01T00:00:00Z

    #[test]
    fn basic_dates_round_trip() {
        assert_eq!(format_basic(NOW), "20261201T000000Z");
        assert_eq!(parse_basic("20261201T000000Z"), Some(NOW));
        assert_eq!(parse_basic("2026-12-01"), None);
    }

    #[test]
    fn time_window_is_fifteen_minutes_either_way() {
        assert!(check_time(NOW - 900, NOW, false).is_ok());
        assert!(check_time(NOW + 900, NOW, false).is_ok());
        let late = check_time(NOW - 901, NOW, false).unwrap_err();
        assert_eq!(late.code, "SignatureDoesNotMatch");
        assert_eq!(late.status, 403);
        assert_eq!(
            late.message,
            "Signature expired: 20261130T234459Z is now earlier than 20261130T234500Z (20261201T000000Z - 15 min.)"
        );
        let early = check_time(NOW + 901, NOW, false).unwrap_err();
        assert_eq!(
            early.message,
            "Signature not yet current: 20261201T001501Z is still later than 20261201T001500Z (20261201T000000Z + 15 min.)"
        );
        let ec2 = check_time(NOW + 86_400, NOW, true).unwrap_err();
        assert_eq!((ec2.code.as_ref(), ec2.status), ("RequestExpired", 400));
    }

    #[test]
    fn presigned_query_strings_are_recognised() {
        let h = HeaderMap::new();
        assert!(authorization(&h, Some("Action=DescribeRegions")).is_none());
        let q = "Action=DescribeRegions&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261201%2Fus-east-1%2Fec2%2Faws4_request&X-Amz-Date=20261201T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00&X-Amz-Expires=3600";
        let auth = authorization(&h, Some(q)).unwrap().unwrap();
        assert_eq!(auth.service, "ec2");
        assert_eq!(auth.access_key_id, "AKID");
        let partial = authorization(&h, Some("X-Amz-Signature=00")).unwrap();
        assert!(matches!(partial, Err(SigV4Error::Malformed(m)) if m.contains("X-Amz-Credential")));
    }
}
